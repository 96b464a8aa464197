"""Every word a notice says, in one module, so the notices can be translated later: each
function takes plain values and returns a Message with a subject, a plain-text part and an
HTML part. No user text becomes markup: every value is escaped in the HTML part, and links
are only the app's own deep links (and a demo's meeting link, escaped as an attribute).
Only English exists yet; `language` picks the wording once others do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

LANGUAGES = ("en",)
PRODUCT = "Decision tracker"


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
    facts: tuple[tuple[str, str], ...] = ()  # (label, value) lines
    action: Item | None = None
    footer: str = ""


def _render(letter: Letter) -> Message:
    text = [letter.greeting, "", letter.intro, ""]
    html = [
        '<!DOCTYPE html><html><body style="font-family: sans-serif; line-height: 1.4">',
        f"<p>{escape(letter.greeting)}</p>",
        f"<p>{escape(letter.intro)}</p>",
    ]
    if letter.facts:
        for label, value in letter.facts:
            text.append(f"{label}: {value}")
        text.append("")
        html.append("<table>")
        html += [
            f"<tr><th style='text-align: left; padding-right: 1em'>{escape(label)}</th>"
            f"<td>{escape(value)}</td></tr>"
            for label, value in letter.facts
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
            shown = escape(item.text)
            if item.link:
                shown = f'<a href="{escape(item.link, quote=True)}">{shown}</a>'
            html.append(f"<li>{shown}{escape(detail)}</li>")
        if section.more:
            text.append(f"- and {section.more} more")
            html.append(f"<li>and {section.more} more</li>")
        text.append("")
        html.append("</ul>")
    if letter.action:
        text += [f"{letter.action.text}: {letter.action.link}", ""]
        html.append(
            f'<p><a href="{escape(letter.action.link, quote=True)}">'
            f"{escape(letter.action.text)}</a></p>"
        )
    footer = letter.footer or FOOTER
    text += ["-- ", footer]
    html.append(f'<hr><p style="color: #666; font-size: small">{escape(footer)}</p>')
    html.append("</body></html>")
    return Message(letter.subject, "\n".join(text) + "\n", "\n".join(html) + "\n")


FOOTER = f"Sent by the {PRODUCT}. Choose which notices you get, and how often, on the Notices page."

# The kinds of event notice a person can choose, with how the Notices page names them.
EVENT_KINDS = {
    "demo": "Demo invitations, changes and cancellations",
    "changes_requested": "Changes requested on a decision you own or built",
    "overdue": "A decision of your forum (or that you own) past its needed-by date",
    "off_track": "A go-live criterion you own (or as a manager, any) going off track",
}
DIGEST_CHOICES = {"daily": "Daily", "weekly": "Weekly (the first run of each week)", "off": "Off"}
KIND_NAMES = {
    "digest": "Digest",
    "demo_invitation": "Demo invitation",
    "demo_change": "Demo changed",
    "demo_cancel": "Demo cancelled",
    "changes_requested": "Changes requested",
    "overdue": "Past needed-by date",
    "off_track": "Criterion off track",
}


def when(day: str, start: str, minutes: int) -> str:
    start_at = dt.datetime.fromisoformat(f"{day[:10]}T{start[:5]}")
    end_at = start_at + dt.timedelta(minutes=minutes)
    return f"{start_at:%A %d %B %Y, %H:%M}–{end_at:%H:%M} (Oslo time)"


def digest(
    name: str, sections: dict[str, list[Item]], *, more: dict[str, int], link: str, period: str
) -> Message:
    """The digest of what awaits a person. `sections`: verdicts, forum, demos, retest."""
    titles = {
        "verdicts": "Verdicts due from you",
        "forum": "Decisions for your forums to decide",
        "demos": "Demos you are invited to",
        "retest": "Builds to retest (defect fixed)",
    }
    count = sum(len(items) + more.get(k, 0) for k, items in sections.items())
    return _render(
        Letter(
            subject=f"{period.capitalize()} digest: {count} item{'s' * (count != 1)} await you",
            greeting=f"Hello {name},",
            intro=f"This is what awaits you in the {PRODUCT}. Each item links to it in the app.",
            sections=tuple(
                Section(titles[k], tuple(items), more.get(k, 0))
                for k, items in sections.items()
                if items
            ),
            action=Item("All your work", link),
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
    subject, intro = {
        "demo_invitation": (
            f"Invitation: demo of {module_name} ({module}), {moment}",
            f"You are invited to demo {key}. The calendar entry is attached; accept it to put "
            "it in your calendar.",
        ),
        "demo_change": (
            f"Changed: demo of {module_name} ({module}), now {moment}",
            f"Demo {key} you are invited to has changed. The attached calendar entry replaces "
            "the earlier one.",
        ),
        "demo_cancel": (
            f"Cancelled: demo of {module_name} ({module}), {moment}",
            f"Demo {key} is cancelled, or you are no longer invited. The attached cancellation "
            "removes it from your calendar.",
        ),
    }[kind]
    facts = [("When", moment), ("Module", f"{module_name} ({module})"), ("Presenter", presenter)]
    if place:
        facts.append(("Place", place))
    if meeting_url:
        facts.append(("Meeting link", meeting_url))
    return _render(
        Letter(
            subject=subject,
            greeting=f"Hello {name},",
            intro=intro,
            facts=tuple(facts),
            sections=(Section("Decisions shown", tuple(decisions)),) if decisions else (),
            action=Item("The demos in the app", link),
        )
    )


def changes_requested(
    name: str, *, key: str, title: str, expert: str, date: str, comment: str, link: str
) -> Message:
    """An expert requested changes to a decision the person owns or built."""
    facts = [("Decision", f"{key} {title}"), ("Requested by", expert), ("On", date[:10])]
    if comment:
        facts.append(("Comment", comment))
    return _render(
        Letter(
            subject=f"Changes requested: {key} {title}",
            greeting=f"Hello {name},",
            intro=f"{expert} requested changes to {key}, which you own or built.",
            facts=tuple(facts),
            action=Item(f"Open {key}", link),
        )
    )


def overdue(
    name: str, *, key: str, title: str, forum: str, needed_by: str, days: int, link: str
) -> Message:
    """A proposal still undecided after its needed-by date."""
    return _render(
        Letter(
            subject=f"Past its needed-by date: {key} {title}",
            greeting=f"Hello {name},",
            intro=f"{key} is still waiting for a decision in {forum}; it was needed by "
            f"{needed_by[:10]}, {days} day{'s' * (days != 1)} ago.",
            facts=(("Decision", f"{key} {title}"), ("Forum", forum), ("Needed by", needed_by)),
            action=Item(f"Open {key}", link),
        )
    )


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
            subject=f"Off track: {criterion} for {wave_name} ({wave})",
            greeting=f"Hello {name},",
            intro=f"The go-live criterion {code} of {wave_name} is off track: {outlook}.",
            facts=(
                ("Criterion", f"{code} {criterion}"),
                ("Now", value),
                ("Target", target),
                ("Go-live", go_live),
            ),
            action=Item("Readiness in the app", link),
        )
    )


def period_word(frequency: str) -> str:
    return {"daily": "daily", "weekly": "weekly"}.get(frequency, frequency)
