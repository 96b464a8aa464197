"""Every word a notice says, in one module, so the notices can be translated later: each
function takes plain values and returns a Message with a subject, a plain-text part and an
HTML part. No user text becomes markup: every value is escaped in the HTML part, and links
are only the app's own deep links and a demo's meeting link, escaped as an attribute, and only
http(s) addresses. Subjects are one line (they become a header).
Every text is in the reader's language (`i18n.use`, set per person by decisions.notices), and
so are dates and times: "tirsdag 15. september 2026, 10:00–11:00 (norsk tid)" in bokmål."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from babel.dates import format_datetime as _babel_datetime

from decisions import i18n
from decisions.i18n import N_, _, n_

LANGUAGES = i18n.LANGUAGES
PRODUCT = N_("Decision tracker")


@dataclass(frozen=True)
class Item:
    text: str
    link: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    items: tuple[Item, ...]
    more: int = 0  # items left out of the list


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Letter:
    """What a notice says, before it is rendered as text and HTML."""

    subject: str
    greeting: str
    intro: str
    sections: tuple[Section, ...] = ()
    facts: tuple[tuple[str, str | Item], ...] = ()  # (label, value or link) lines
    action: Item | None = None
    footer: str = ""


def _web_link(item: Item) -> str:
    """An item as HTML: a link when it has an http(s) address (any other, such as a
    javascript: link typed as a meeting link, stays text), every value escaped."""
    shown = escape(item.text)
    if urlsplit(item.link).scheme.lower() not in ("http", "https"):
        return shown
    return f'<a href="{escape(item.link, quote=True)}">{shown}</a>'


def _render(letter: Letter) -> Message:
    text = [letter.greeting, "", letter.intro, ""]
    html = [
        f'<!DOCTYPE html><html lang="{i18n.language()}">'
        '<body style="font-family: sans-serif; line-height: 1.4">',
        f"<p>{escape(letter.greeting)}</p>",
        f"<p>{escape(letter.intro)}</p>",
    ]
    if letter.facts:
        facts = [(label, value if isinstance(value, Item) else Item(value))
                 for label, value in letter.facts]  # fmt: skip
        text += [f"{label}: {value.text}" for label, value in facts]
        text.append("")
        html.append("<table>")
        html += [
            f"<tr><th style='text-align: left; padding-right: 1em'>{escape(label)}</th>"
            f"<td>{_web_link(value)}</td></tr>"
            for label, value in facts
        ]
        html.append("</table>")
    for section in letter.sections:
        text += [f"{section.title} ({len(section.items) + section.more})", ""]
        html.append(f"<h3>{escape(section.title)} ({len(section.items) + section.more})</h3><ul>")
        for item in section.items:
            detail = f" ({item.detail})" if item.detail else ""
            text.append(f"- {item.text}{detail}")
            if item.link:
                text.append(f"  {item.link}")
            html.append(f"<li>{_web_link(item)}{escape(detail)}</li>")
        if section.more:
            more = _("and {count} more", count=i18n.format_number(section.more))
            text.append(f"- {more}")
            html.append(f"<li>{escape(more)}</li>")
        text.append("")
        html.append("</ul>")
    if letter.action:
        text += [f"{letter.action.text}: {letter.action.link}", ""]
        html.append(f"<p>{_web_link(letter.action)}</p>")
    footer = letter.footer or _(FOOTER, product=_(PRODUCT))
    text += ["-- ", footer]
    html.append(f'<hr><p style="color: #666; font-size: small">{escape(footer)}</p>')
    html.append("</body></html>")
    subject = " ".join(letter.subject.split())  # a header: one line, whatever the data
    return Message(subject, "\n".join(text) + "\n", "\n".join(html) + "\n")


FOOTER = N_(
    "Sent by the {product}. Choose which notices you get, and how often, on the Notices page."
)

# The kinds of event notice a person can choose, with how the Notices page names them.
EVENT_KINDS = {
    "demo": N_("Demo invitations, changes and cancellations"),
    "changes_requested": N_("Changes requested on a decision you own or built"),
    "overdue": N_("A decision of your forum (or that you own) past its needed-by date"),
    "off_track": N_("A go-live criterion you own (or as a manager, any) going off track"),
}
DIGEST_CHOICES = {
    "daily": N_("Daily"),
    "weekly": N_("Weekly (the first run of each week)"),
    "off": N_("Off"),
}
KIND_NAMES = {
    "digest": N_("Digest"),
    "demo_invitation": N_("Demo invitation"),
    "demo_change": N_("Demo changed"),
    "demo_cancel": N_("Demo cancelled"),
    "changes_requested": N_("Changes requested"),
    "overdue": N_("Past needed-by date"),
    "off_track": N_("Criterion off track"),
}
# A moment as the reader writes it in a letter: weekday, day, month and year, then the hours.
_MOMENT = {"nb": "EEEE d. MMMM y, HH:mm", "en": "EEEE d MMMM y, HH:mm"}


def when(day: str, start: str, minutes: int) -> str:
    """A demo's time in the reader's language, "tirsdag 15. september 2026, 10:00–11:00 (norsk
    tid)" or "Tuesday 15 September 2026, 10:00–11:00 (Oslo time)"."""
    start_at = dt.datetime.fromisoformat(f"{day[:10]}T{start[:5]}")
    end_at = start_at + dt.timedelta(minutes=minutes)
    lang = i18n.language()
    begins = _babel_datetime(start_at, _MOMENT[lang], locale=i18n._LOCALES[lang])
    return _("{start}–{end} (Oslo time)", start=begins, end=f"{end_at:%H:%M}")


def number(value: float) -> str:
    """A figure as the reader writes it, with as many decimals as it has (up to 3): 0,85."""
    shown = f"{value:.3f}".rstrip("0").rstrip(".")
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    return i18n.format_number(float(shown), decimals)


def day_of(value: str | None) -> str:
    """A stored date ('2026-09-15' or a moment) as the reader writes it: 15.09.2026; "" for
    none (None, or a table's missing value)."""
    if not isinstance(value, str) or not value:
        return ""
    return i18n.format_date(dt.date.fromisoformat(value[:10]))


def digest(
    name: str, sections: dict[str, list[Item]], *, more: dict[str, int], link: str, period: str
) -> Message:
    """The digest of what awaits a person. `sections`: verdicts, forum, demos, retest."""
    titles = {
        "verdicts": _("Verdicts due from you"),
        "forum": _("Decisions for your forums to decide"),
        "demos": _("Demos you are invited to"),
        "retest": _("Builds to retest (defect fixed)"),
    }
    count = sum(len(items) + more.get(k, 0) for k, items in sections.items())
    subject = (
        n_("Weekly digest: {count} item awaits you", "Weekly digest: {count} items await you",
           count)
        if period == "weekly"
        else n_("Daily digest: {count} item awaits you", "Daily digest: {count} items await you",
                count)
    )  # fmt: skip
    return _render(
        Letter(
            subject=subject,
            greeting=_("Hello {name},", name=name),
            intro=_(
                "This is what awaits you in the {product}. Each item links to it in the app.",
                product=_(PRODUCT),
            ),  # fmt: skip
            sections=tuple(
                Section(titles[k], tuple(items), more.get(k, 0))
                for k, items in sections.items()
                if items
            ),
            action=Item(_("All your work"), link),
        )
    )


def demo_invitation(
    name: str,
    *,
    kind: str,
    key: str,
    module: str,
    module_name: str,
    day: str,
    start: str,
    minutes: int,
    place: str,
    meeting_url: str,
    presenter: str,
    decisions: list[Item],
    link: str,
) -> Message:
    """An invitation to a demo (kind demo_invitation), its change (demo_change) or its
    cancellation (demo_cancel); the calendar entry travels with it."""
    moment = when(day, start, minutes)
    values = {"module_name": module_name, "module": module, "moment": moment, "key": key}
    subject, intro = {
        "demo_invitation": (
            _("Invitation: demo of {module_name} ({module}), {moment}", **values),
            _("You are invited to demo {key}. The calendar entry is attached; accept it to put "
              "it in your calendar.", **values),
        ),
        "demo_change": (
            _("Changed: demo of {module_name} ({module}), now {moment}", **values),
            _("Demo {key} you are invited to has changed. The attached calendar entry replaces "
              "the earlier one.", **values),
        ),
        "demo_cancel": (
            _("Cancelled: demo of {module_name} ({module}), {moment}", **values),
            _("Demo {key} is cancelled, or you are no longer invited. The attached "
              "cancellation removes it from your calendar.", **values),
        ),
    }[kind]  # fmt: skip
    facts = [
        (_("When"), moment),
        (_("Module"), f"{module_name} ({module})"),
        (_("Presenter"), presenter),
    ]
    if place:
        facts.append((_("Place"), place))
    if meeting_url:
        facts.append((_("Meeting link"), Item(meeting_url, meeting_url)))
    return _render(
        Letter(
            subject=subject,
            greeting=_("Hello {name},", name=name),
            intro=intro,
            facts=tuple(facts),
            sections=(Section(_("Decisions shown"), tuple(decisions)),) if decisions else (),
            action=Item(_("Demo {key} in the app", key=key), link),
        )
    )


def changes_requested(
    name: str, *, key: str, title: str, expert: str, date: str, comment: str, link: str
) -> Message:
    """An expert requested changes to a decision the person owns or built."""
    facts = [
        (_("Decision"), f"{key} {title}"),
        (_("Requested by"), expert),
        (_("On"), day_of(date)),
    ]
    if comment:
        facts.append((_("Comment"), comment))
    return _render(
        Letter(
            subject=_("Changes requested: {key} {title}", key=key, title=title),
            greeting=_("Hello {name},", name=name),
            intro=_(
                "{expert} requested changes to {key}, which you own or built.",
                expert=expert,
                key=key,
            ),  # fmt: skip
            facts=tuple(facts),
            action=Item(_("Open {key}", key=key), link),
        )
    )


def overdue(
    name: str, *, key: str, title: str, forum: str, needed_by: str, days: int, link: str
) -> Message:
    """A proposal still undecided after its needed-by date."""
    return _render(
        Letter(
            subject=_("Past its needed-by date: {key} {title}", key=key, title=title),
            greeting=_("Hello {name},", name=name),
            intro=n_("{key} is still waiting for a decision in {forum}; it was needed by "
                     "{needed_by}, {count} day ago.",
                     "{key} is still waiting for a decision in {forum}; it was needed by "
                     "{needed_by}, {count} days ago.",
                     days, key=key, forum=forum, needed_by=day_of(needed_by)),
            facts=(
                (_("Decision"), f"{key} {title}"),
                (_("Forum"), forum),
                (_("Needed by"), day_of(needed_by)),
            ),
            action=Item(_("Open {key}", key=key), link),
        )
    )  # fmt: skip


def off_track(
    name: str,
    *,
    wave: str,
    wave_name: str,
    code: str,
    criterion: str,
    value: str,
    target: str,
    outlook: str,
    go_live: str,
    link: str,
) -> Message:
    """A go-live criterion whose forecast misses its wave's go-live."""
    return _render(
        Letter(
            subject=_("Off track: {criterion} for {wave_name} ({wave})",
                      criterion=criterion, wave_name=wave_name, wave=wave),
            greeting=_("Hello {name},", name=name),
            intro=_("The go-live criterion {code} of {wave_name} is off track: {outlook}.",
                    code=code, wave_name=wave_name, outlook=outlook),
            facts=(
                (_("Criterion"), f"{code} {criterion}"),
                (_("Now"), value),
                (_("Target"), target),
                (_("Go-live"), day_of(go_live)),
            ),
            action=Item(_("Readiness in the app"), link),
        )
    )  # fmt: skip


def period_word(frequency: str) -> str:
    """The digest's period as stored ('daily', 'weekly'): `digest` words its subject by it."""
    return frequency
