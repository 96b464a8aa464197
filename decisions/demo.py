"""The demo programme (SPEC.md section 6): the organisations and waves of the Helseplattformen
plan, experts, decisions in every stage with their evidence and event history, criteria and
reported measurements, with the programme clock at 2022-09-15.

Generated deterministically from a seed. Each decision's life is planned first (manual steps,
demos, verdicts, test runs with their times); then the life is replayed in time order through
`workflow.derive_stage`, exactly as the services would, so every stage event and the stored
stage follow from the same facts that `services.check` derives from."""

from __future__ import annotations

import datetime as dt
import functools
import random
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from decisions import (
    admin,
    evidence,
    notices,
    permissions,
    planning,
    programme,
    services,
    settings,
    store,
)
from decisions.i18n import _, format_date, format_number
from decisions.model import (
    STAGE_RANK,
    STAGES,
    SYSTEM_ACTOR,
    WITHDRAWN,
    Actor,
    ApprovalRule,
    DecisionFacts,
    DemoFact,
    RunFact,
    VerdictFact,
    WorkflowError,
)
from decisions.readiness import DEFAULT_CRITERIA
from decisions.store import bulk, reference, write
from decisions.workflow import (
    approvers_needed,
    side_of,
)

CLOCK = "2022-09-15"
EPOCH = dt.datetime(2020, 1, 6)  # a Monday: the programme's first working week
DAY = 86_400
WEEK = 7 * DAY
DEMO_ROOMS = (
    "St. Olavs hospital, Kunnskapssenteret, møterom 3",
    "Hemit, Olav Kyrres gate 17, demorom 2",
    "Helse Nord-Trøndelag, Levanger, møterom Nidelva",
)
CLOCK_T = int((dt.datetime.fromisoformat(CLOCK) - EPOCH).total_seconds())
NOW = f"{CLOCK}T00:00:00"  # what the evidence's rules take for now: the clock's first moment
LAST_T = CLOCK_T - 7 * 3600  # the last moment evidence may carry: the day before the clock
RULE = ApprovalRule()

ORGANIZATIONS = (  # code, name, kind, email domain, weight among the experts
    ("STO", "St. Olavs hospital HF", "hospital", "stolav.no", 28),
    ("HNT", "Helse Nord-Trøndelag HF", "hospital", "hnt.no", 14),
    ("HMR", "Helse Møre og Romsdal HF", "hospital", "helse-mr.no", 12),
    ("TRD", "Trondheim kommune", "municipality", "trondheim.kommune.no", 22),
    ("LADE", "Lade legesenter", "gp_office", "ladelegesenter.no", 1.5),
    ("HEIM", "Heimdal legesenter", "gp_office", "heimdallegesenter.no", 1.5),
    ("ROR", "Røros kommune", "municipality", "roros.kommune.no", 2),
    ("OSK", "Os kommune", "municipality", "os.kommune.no", 1),
    ("HOL", "Holtålen kommune", "municipality", "holtalen.kommune.no", 1),
    ("IFO", "Indre Fosen kommune", "municipality", "indrefosen.kommune.no", 2),
    ("ORL", "Ørland kommune", "municipality", "orland.kommune.no", 2),
    ("AFJ", "Åfjord kommune", "municipality", "afjord.kommune.no", 1.5),
    ("LEV", "Levanger kommune", "municipality", "levanger.kommune.no", 3),
    ("VER", "Verdal kommune", "municipality", "verdal.kommune.no", 3),
    ("ALE", "Ålesund kommune", "municipality", "alesund.kommune.no", 5),
)
WAVES = (  # code, name, go-live, organisations
    ("W1", "Trondheim kommune", "2022-05-07", ("TRD", "LADE", "HEIM")),
    ("W2", "St. Olavs hospital og nabokommunene", "2022-11-12",
     ("STO", "ROR", "OSK", "HOL", "IFO", "ORL", "AFJ")),
    ("W3", "Helse Nord-Trøndelag", "2023-02-11", ("HNT", "LEV", "VER")),
    ("W4", "Helse Møre og Romsdal", "2023-04-29", ("HMR", "ALE")),
)  # fmt: skip
REPLAN = (
    "W2",
    "2022-05-07",
    "2022-11-12",
    "2021-09-28T14:00:00",
    "St. Olavs hospital utsatt: integrasjonstesting og opplæring av sluttbrukere kunne ikke "
    "fullføres for en trygg produksjonssetting i mai; Trondheim kommune beholder 07.05.2022",
)

MEASUREMENTS = (  # wave, reported criterion, (date, value) history
    ("W1", "R7", (("2021-11-15", 35), ("2021-12-15", 48), ("2022-01-14", 60),
                  ("2022-02-15", 72), ("2022-03-15", 84), ("2022-04-14", 93), ("2022-05-03", 97))),
    ("W1", "R7S", (("2021-11-15", 0.5), ("2022-01-14", 0.8), ("2022-03-15", 1.1),
                   ("2022-05-03", 1.2))),
    ("W1", "R8", (("2022-03-12", 0), ("2022-04-09", 1))),
    ("W1", "R8M", (("2022-02-19", 0), ("2022-03-26", 1))),
    ("W2", "R7", (("2022-03-15", 4), ("2022-04-14", 12), ("2022-05-16", 22), ("2022-06-15", 34),
                  ("2022-07-15", 48), ("2022-08-15", 59), ("2022-09-12", 69))),
    ("W2", "R7S", (("2022-03-15", 0.3), ("2022-05-16", 0.6), ("2022-07-15", 0.9),
                   ("2022-08-15", 1.0), ("2022-09-12", 1.1))),
    ("W2", "R8", (("2022-08-20", 0), ("2022-09-10", 1))),
    ("W2", "R8M", (("2022-06-18", 0), ("2022-09-03", 0))),
    ("W3", "R7", (("2022-06-15", 1), ("2022-07-15", 2), ("2022-08-15", 4), ("2022-09-12", 7))),
    ("W3", "R7S", (("2022-06-15", 0.1), ("2022-08-15", 0.2), ("2022-09-12", 0.3))),
    ("W4", "R7", (("2022-08-15", 0), ("2022-09-12", 1))),
)  # fmt: skip

FIRST_NAMES = (
    "Kari", "Ingrid", "Anne", "Marit", "Liv", "Solveig", "Ragnhild", "Hilde", "Silje", "Ida",
    "Nora", "Ingeborg", "Sigrid", "Tone", "Randi", "Guro", "Astrid", "Åse", "Bodil", "Mette",
    "Camilla", "Hanne", "Line", "Marte", "Eli", "Torunn", "Siri", "Therese", "Kristin", "Berit",
    "Ole", "Lars", "Per", "Jan", "Knut", "Bjørn", "Arne", "Erik", "Tor", "Geir", "Håkon",
    "Magnus", "Jonas", "Sindre", "Eirik", "Øystein", "Trond", "Svein", "Odd", "Stian", "Rune",
    "Espen", "Vegard", "Anders", "Thomas", "Morten", "Jørgen", "Sverre", "Halvard", "Ståle",
)  # fmt: skip
LAST_NAMES = (
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen",
    "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen", "Henriksen",
    "Lund", "Sørensen", "Jakobsen", "Moen", "Gundersen", "Iversen", "Strand", "Solberg",
    "Svendsen", "Eide", "Knutsen", "Martinsen", "Paulsen", "Bakken", "Kristoffersen", "Mathisen",
    "Lie", "Amundsen", "Nguyen", "Rasmussen", "Ali", "Lunde", "Solheim", "Berge", "Moe",
    "Nygård", "Bakke", "Kristensen", "Fredriksen", "Holm", "Lien", "Hauge", "Christensen",
    "Andresen", "Nielsen", "Knudsen", "Evensen", "Sæther", "Aas", "Myhre", "Hanssen", "Ødegård",
    "Tangen", "Røed", "Aasen", "Grønli", "Fossum", "Brekke", "Rønning", "Lyngstad", "Skjevdal",
)  # fmt: skip

DOMAIN_WEIGHTS = {
    "MED": 11, "LAB": 6, "RAD": 4, "SUR": 6, "EME": 5, "MAT": 4, "PSY": 5, "HOM": 6, "NUR": 5,
    "GP": 5, "PAD": 9, "DOC": 10, "INT": 7, "MIG": 4, "TRN": 3, "REP": 4, "ICU": 3, "ONC": 3,
}  # fmt: skip
# The programme's words are bokmål, as St. Olavs hospital and the Trøndelag municipalities
# write them: each tuple keeps its length, so the seed draws the same programme as before.
TOPICS = {
    "MED": ("Høyrisikoinfusjoner", "Insulindosering", "Antibiotikastyring", "Avrunding av doser"),
    "LAB": ("Merking av blodprøver", "Kritiske prøvesvar", "Pasientnær analyse", "Mikrobiologi"),
    "RAD": ("Kontrastallergi", "Røntgenprotokoller", "Kvittering av røntgensvar"),
    "SUR": ("Trygg kirurgi-sjekkliste", "Operasjonsplanlegging", "Implantatregistrering"),
    "EME": ("Triagenivåer", "Overlevering fra ambulanse", "Kolonner i akuttmottakstavla"),
    "MAT": ("Partogram", "Registrering av nyfødte", "Helsekort for gravide"),
    "PSY": ("Tvangsinnleggelse", "Voldsrisikovurdering", "Oppfølging i rusomsorgen"),
    "HOM": (
        "Planlegging av hjemmebesøk",
        "Vedtak etter søknad om tjenester",
        "Legemiddeldispensere i hjemmet",
    ),
    "NUR": ("Fallrisiko", "Ernæringskartlegging", "Tiltaksplaner for beboere"),
    "GP": ("Sykmeldinger", "Årskontroll ved kroniske sykdommer", "Meldinger fra pasienter"),
    "PAD": ("Ventelister", "Påminnelse om time", "Egenandeler", "Overflytting og henvisning"),
    "DOC": ("Innkomstjournal", "Epikrise", "Vitale parametere", "Sykepleieplan"),
    "INT": (
        "E-resept og reseptformidleren",
        "Henvisninger og epikriser i meldingsløftet",
        "Data fra medisinsk utstyr",
        "Analyseinstrumenter på laboratoriet",
    ),
    "MIG": (
        "Konvertering av legemiddellister",
        "Konvertering av kritisk informasjon",
        "Konvertering av timeavtaler",
    ),
    "TRN": ("E-læringsløp", "Opplæring av superbrukere", "Ferdighetstester"),
    "REP": ("Aktivitetsrapportering", "Kvalitetsindikatorer", "Innrapportering til registre"),
    "ICU": ("Respiratorkurve", "Væskebalanse", "Sedasjonsskår"),
    "ONC": ("Cellegiftkurer", "Forløpstider i pakkeforløp for kreft", "Lister til MDT-møter"),
}
ASPECTS = (
    "standard bestillingssett", "tilgang etter rolle", "arbeidsflyt på sengepost",
    "utskrift og etiketter", "varsler og påminnelser", "mal for journalnotat", "navnestandard",
    "koding og klassifikasjon", "rapport ved vaktskifte", "visning i pasientportalen",
    "nedetidsrutine", "samtykke og tilgangsstyring", "kolonner i arbeidslister",
    "eskalering til lege", "logg over oppslag", "påminnelser om oppfølging",
)  # fmt: skip
OPTIONS = (
    "leverandørens standardoppsett uendret", "standardoppsettet med lokale navn",
    "ett felles regionalt oppsett", "eget oppsett for hver virksomhet", "en forenklet arbeidsflyt",
    "den nasjonale standarden", "et strukturert skjema i stedet for fritekst",
)  # fmt: skip
RATIONALES = (
    "Holder oppsettet nær standardsystemet og gjør oppgraderinger enklere.",
    "Følger dagens kliniske praksis i alle virksomhetene.",
    "Påkrevd etter nasjonalt regelverk.",
    "Mindre dobbeltdokumentasjon for sykepleierne.",
    "Avtalt etter en risikovurdering sammen med pasientsikkerhetsteamet.",
)
ESCALATION_REASONS = (
    "sykehusenes og kommunenes fagforum er uenige",
    "berører arbeidsflyten i flere fagområder",
    "har konsekvenser for kostnader og kontrakt",
    "krever en beslutning om regional standardisering",
    "risikoen for pasientsikkerheten krever en beslutning på høyere nivå",
)
CHANGE_COMMENTS = (
    "Rekkefølgen på feltene passer ikke arbeidsflyten på posten.",
    "Varselet kommer for ofte; folk slutter å lese det.",
    "Kommunenes tjenestenivåer mangler.",
    "Etikettene er uleselige på skriverne vi bruker til blodprøver.",
    "Ikke det som ble besluttet: dobbeltkontrollen mangler.",
)
WITHDRAW_REASONS = (
    "duplikat av en annen beslutning",
    "dekkes av leverandørens standardinnhold",
    "ikke lenger nødvendig etter den regionale avtalen",
)
REVISE_REASONS = (
    "ny nasjonal faglig retningslinje",
    "første versjon dekket ikke kommunene",
    "endret etter en gjennomgang av pasientsikkerheten",
    "fungerte ikke i integrasjonstesten",
)
DEFECT_PROBLEMS = (
    "feil standardverdi", "feltet mangler i skjemaet", "meldingen avvises i grensesnittet",
    "utskriften blir kuttet", "varselet vises ikke", "rollen får ikke tilgang",
    "dobbeltregistrering etter lagring", "feil klokkeslett vises", "søket er tregt",
)  # fmt: skip
DEMO_NOTES = (  # what the presenter noted after a demo that was held
    "Gikk gjennom arbeidsflyten fra bestilling til svar. Fagekspertene ba om færre klikk.",
    "Vist på testmiljøet med fiktive pasienter. Spørsmål om varsler er notert til neste runde.",
    "God diskusjon om ansvar mellom sykehus og kommune; blodprøvesvar må vises i begge.",
    "Fagekspertene fra Røros og Trondheim deltok på video. Ingen innvendinger underveis.",
    "Henvisning og epikrise vist i sammenheng. Etikettutskrift må demonstreres på nytt.",
    "",
)
# Who a decision applies to, by its scope, and the kinds of test case, as the decisions say them.
WHO = {"hospital": "Sykehusene", "municipality": "Kommunene", "joint": "Alle virksomhetene"}
TEST_KINDS = {
    "application": "applikasjonstest",
    "integrated": "integrasjonstest",
    "acceptance": "akseptansetest",
    "regression": "regresjonstest",
}

TARGET_SHARES = (  # of the decisions that are not withdrawn, in stage order
    ("proposed", 6), ("decided", 5), ("in_build", 7), ("built", 5), ("demonstrated", 7),
    ("approved", 8), ("in_test", 9), ("tested", 15), ("ready", 38),
)  # fmt: skip
WITHDRAWN_SHARE = 0.04
# About how many days a life to each stage takes at pace 1 (the sum of the mean gaps).
EXPECTED_DAYS = {
    "proposed": 20, "decided": 40, "in_build": 65, "built": 97, "demonstrated": 112,
    "approved": 132, "in_test": 160, "tested": 172, "ready": 195, WITHDRAWN: 90,
}  # fmt: skip

# Who plays each part of the story: the first role the permission table gives each act.
BUILDER = permissions.roles_for("mark_built")[0]
EXPERT = permissions.roles_for("approve")[0]
TESTER = permissions.roles_for("record_test_run")[0]
MANAGER = permissions.roles_for("mark_ready")[0]
READER = permissions.roles_without_permissions()[0]


def lowered(topic: str) -> str:
    """A topic inside a sentence: "Epikrise" becomes "epikrise", but names and abbreviations
    keep their capitals ("MDT-møter", "E-resept")."""
    first = topic.split()[0]
    if any(c.isupper() for c in first[1:]) or "-" in first:
        return topic
    return topic[0].lower() + topic[1:]


@functools.cache
def _day(day: int) -> str:
    return (EPOCH + dt.timedelta(days=day)).date().isoformat()


def iso(t: int) -> str:
    """Seconds since EPOCH as 'YYYY-MM-DDTHH:MM:SS' (called a few hundred thousand times)."""
    day, second = divmod(t, DAY)
    hour, second = divmod(second, 3600)
    return f"{_day(day)}T{hour:02d}:{second // 60:02d}:{second % 60:02d}"


@dataclass
class Person:
    email: str
    name: str
    organization: str
    side: str
    roles: list[str]
    domains: list[str]
    allocation: int
    forums: set[str] = field(default_factory=set)


@dataclass
class Case:
    kind: str
    title: str
    created: int
    runs: list[tuple[int, str, str, dict | None]] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    key: str = ""


@dataclass
class Plan:
    """One decision's planned life: manual steps and the evidence it gathers, with times."""

    key: str
    domain: str
    module: str
    scope: str
    criticality: str
    forum: str
    created: int
    steps: list[tuple[int, str, dict]] = field(default_factory=list)
    verdicts: list[tuple[int, str, str, str]] = field(default_factory=list)
    demos: list[tuple[int, list[str], list[str], str]] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    built: int | None = None  # when the last build round started
    first_forum: str = ""

    def step(self, t: int, kind: str, **payload) -> int:
        self.steps.append((t, kind, payload))
        return t


class Generator:
    """Builds the demo programme in memory; `write` stores it in one transaction."""

    def __init__(self, rng: random.Random, scale: float, lists: dict[str, list[dict]]):
        self.rng = rng
        self.scale = scale
        self.lists = lists
        self.org_kind = {o[0]: o[2] for o in ORGANIZATIONS}
        self.forums = {f["code"]: f for f in lists["forums"]}
        self.modules_of = defaultdict(list)
        self.slot_of = {}  # each module's weekly demo slot: a weekday and an hour
        for index, module in enumerate(lists["modules"]):
            self.modules_of[module["domain"]].append(module["code"])
            hour = 10 if index // 5 % 2 == 0 else 13
            self.slot_of[module["code"]] = (index % 5) * DAY + hour * 3600
        self.sides_of = defaultdict(set)  # domain -> sides with a level-1 forum
        for f in lists["forums"]:
            if f["level"] == 1 and f["scope"] != "joint":
                for fd in lists["forum_domains"]:
                    if fd["forum"] == f["code"]:
                        self.sides_of[fd["domain"]].add(f["scope"])
        self.people: list[Person] = []
        self.actors: dict[str, Actor] = {}
        self.refused_verdicts: set[int] = set()
        self.proposals = 0
        self.plans: list[Plan] = []
        self.events: list[tuple[str, int, dict]] = []

    # Time -----------------------------------------------------------------------------------

    def later(self, t: int, days: float) -> int:
        """A working-hours moment about `days` after `t`, never before it."""
        y = t + int(days * DAY)
        day = y // DAY
        if day % 7 >= 5:
            day += 7 - day % 7
        y = day * DAY + self.rng.randint(8 * 3600, 16 * 3600)
        return y if y > t else t + self.rng.randint(600, 3600)

    def gap(self, base: float, mean: float) -> float:
        return base + min(self.rng.expovariate(1 / mean), 4 * mean)

    def slot(self, t: int, module: str) -> int:
        """The module's next weekly demo slot at or after `t`."""
        slot = t // WEEK * WEEK + self.slot_of[module]
        return slot if slot >= t else slot + WEEK

    def event(self, t: int | str, actor: str, entity: str, key: str, action: str,
              from_value=None, to_value=None, reason=None, rank: int = 1) -> None:  # fmt: skip
        at = iso(t) if isinstance(t, int) else t
        values = (at, actor, entity, key, action, from_value, to_value, reason)
        self.events.append((at, rank, dict(zip(store.EVENT_FIELDS[1:], values, strict=True))))

    # People ---------------------------------------------------------------------------------

    def make_people(self) -> None:
        rng = self.rng
        count = max(round(420 * self.scale), 100)
        orgs = [o[0] for o in ORGANIZATIONS]
        weights = [o[4] for o in ORGANIZATIONS]
        mail = {o[0]: o[3] for o in ORGANIZATIONS}
        admin = permissions.ADMIN_ROLE
        fixed_roles = [[admin], [admin], [MANAGER], [MANAGER], [MANAGER], [READER]]
        taken: set[str] = set()
        for index in range(count):
            org = "STO" if index < len(fixed_roles) else rng.choices(orgs, weights)[0]
            side = side_of(self.org_kind[org])
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            local = f"{first}.{last}".lower()
            for a, b in (("æ", "ae"), ("ø", "o"), ("å", "a")):
                local = local.replace(a, b)
            email, n = f"{local}@{mail[org]}", 2
            while email in taken:
                email, n = f"{local}{n}@{mail[org]}", n + 1
            taken.add(email)
            roles = fixed_roles[index] if index < len(fixed_roles) else self.draw_roles()
            domains = [d for d in DOMAIN_WEIGHTS if side in self.sides_of[d]]
            chosen = rng.sample(domains, rng.choice((1, 1, 2, 2, 2, 3)))
            allocation = 100 if BUILDER in roles else rng.choice((10, 20, 20, 30, 40, 50, 50, 60, 80, 100))  # fmt: skip
            self.people.append(
                Person(email, f"{first} {last}", org, side, roles, chosen, allocation)
            )
        self.fill_pools()
        self.assign_forums()

    def draw_roles(self) -> list[str]:
        r = self.rng.random()
        if r < 0.76:
            return [EXPERT, TESTER] if self.rng.random() < 0.04 else [EXPERT]
        if r < 0.88:
            return [BUILDER]
        if r < 0.95:
            return [TESTER]
        if r < 0.975:
            return [MANAGER]
        return [permissions.ADMIN_ROLE] if r < 0.985 else [READER]

    def fill_pools(self) -> None:
        """At least three experts of each domain on each side that has a forum for it, so
        that critical decisions can be approved."""
        for domain, sides in self.sides_of.items():
            for side in sorted(sides):
                pool = [p for p in self.people if EXPERT in p.roles and p.side == side]
                while sum(domain in p.domains for p in pool) < 3:
                    free = [p for p in pool if domain not in p.domains and len(p.domains) < 3]
                    self.rng.choice(free or [p for p in pool if domain not in p.domains]).domains.append(domain)  # fmt: skip
        self.pool = defaultdict(list)  # (domain, side) -> approving experts
        for p in self.people:
            if EXPERT in p.roles:
                for d in p.domains:
                    self.pool[d, p.side].append(p.email)
        self.by_role = defaultdict(list)
        for p in self.people:
            for role in p.roles:
                self.by_role[role].append(p)
        everyone = [p.email for p in self.by_role[BUILDER]]
        self.analysts = {  # who builds and presents in each domain
            d: [p.email for p in self.by_role[BUILDER] if d in p.domains] or everyone
            for d in DOMAIN_WEIGHTS
        }
        self.people_by_email = {p.email: p for p in self.people}

    def assign_forums(self) -> None:
        rng = self.rng
        domain_forums = defaultdict(list)
        for fd in self.lists["forum_domains"]:
            forum = self.forums[fd["forum"]]
            if forum["level"] == 1:
                domain_forums[fd["domain"]].append(forum)
        for p in self.by_role[EXPERT]:
            for d in p.domains:
                for forum in domain_forums[d]:
                    if forum["scope"] == p.side or (
                        forum["scope"] == "joint" and rng.random() < 0.5
                    ):
                        p.forums.add(forum["code"])
        for forum in self.forums.values():
            if forum["level"] == 1 and forum["scope"] == "joint":
                for d in (fd["domain"] for fd in self.lists["forum_domains"] if fd["forum"] == forum["code"]):  # fmt: skip
                    for side in ("hospital", "municipality"):
                        members = [e for e in self.pool[d, side] if forum["code"] in self.person(e).forums]  # fmt: skip
                        if not members:
                            self.person(self.pool[d, side][0]).forums.add(forum["code"])
        experts = self.by_role[EXPERT]
        joint = rng.sample(experts, max(6, len(experts) // 20))
        for side in ("hospital", "municipality"):
            joint.append(next(p for p in experts if p.side == side))
        for p in joint:
            p.forums.add("FBG")
        for p in self.by_role[MANAGER] + rng.sample(experts, max(3, len(experts) // 60)):
            p.forums.add("STYR")
        self.members = defaultdict(list)
        for p in self.people:
            for forum in sorted(p.forums):
                self.members[forum].append(p.email)

    def person(self, email: str) -> Person:
        return self.people_by_email[email]

    def actor(self, email: str) -> Actor:
        """The person as the use cases see them when they act."""
        if email not in self.actors:
            p = self.person(email)
            self.actors[email] = Actor(email, p.name, frozenset(p.roles), frozenset(p.domains),
                                       frozenset(p.forums), p.organization, p.side)  # fmt: skip
        return self.actors[email]

    def severe_defects(self, key: str, at: str) -> list[dict]:
        """The decision's severity 1-2 defects open at `at`, as mark_ready's rule reads them
        (store.decisions.open_severe_defects)."""
        return [d for d in self.defects_of[key] if iso(d["opened"]) <= at < iso(d["until"])]

    # Decisions ------------------------------------------------------------------------------

    def make_decisions(self, progress: Callable[[float, str], None]) -> None:
        rng = self.rng
        count = round(3000 * self.scale)
        domains, weights = zip(*DOMAIN_WEIGHTS.items(), strict=True)
        ages = [rng.random() ** 0.7 for _i in range(count)]  # more decisions early on
        withdrawn = [rng.random() < WITHDRAWN_SHARE for _i in range(count)]
        # Older decisions have come further, with noise: rank by age and deal out the stages.
        scores = sorted(range(count), key=lambda i: ages[i] + rng.gauss(0, 0.2))
        live = [i for i in scores if not withdrawn[i]]
        targets = {i: WITHDRAWN for i in range(count) if withdrawn[i]}
        total = sum(share for _stage, share in TARGET_SHARES)
        start = 0
        for stage, share in TARGET_SHARES:
            end = start + round(len(live) * share / total)
            for i in live[start:end] if stage != "ready" else live[start:]:
                targets[i] = stage
            start = end
        numbers: dict[str, int] = defaultdict(int)
        span = CLOCK_T - 30 * DAY
        oldest_first = sorted(range(count), key=lambda i: -ages[i])  # keys in order of creation
        for n, i in enumerate(oldest_first):
            domain = rng.choices(domains, weights)[0]
            numbers[domain] += 1
            key = f"{domain}-{numbers[domain]:04d}"
            created = self.later(int(span * (1 - ages[i])), 0)  # in working hours
            self.plans.append(self.plan_decision(key, domain, targets[i], created))
            if n % max(1, count // 20) == 0:
                progress(
                    0.05 + 0.45 * n / count,
                    _(
                        "Planning decisions ({done} of {count})",
                        done=format_number(n),
                        count=format_number(count),
                    ),
                )
        self.share_test_cases()

    def plan_decision(self, key: str, domain: str, target: str, created: int) -> Plan:
        """A decision's life that reaches `target` before the clock, paced to take a good part
        of the time left (so that progress shows over the months), quicker when it would not
        fit, and started earlier as a last resort."""
        window = (LAST_T - created) / DAY
        pace = min(4.0, max(0.5, window * self.rng.uniform(0.4, 0.9) / EXPECTED_DAYS[target]))
        for _i in range(40):
            plan = self.plan_life(key, domain, target, created, pace)
            end = max([plan.created] + [s[0] for s in plan.steps] + [v[0] for v in plan.verdicts]
                      + [d[0] for d in plan.demos] + [c.created for c in plan.cases]
                      + [r[0] for c in plan.cases for r in c.runs])  # fmt: skip
            if end <= LAST_T:
                return plan
            if pace > 0.3:
                pace *= 0.75
            else:
                created = max(0, created - (end - LAST_T) - DAY)
        raise RuntimeError(f"the life of {key} does not fit before the clock")

    def plan_life(self, key: str, domain: str, target: str, created: int, pace: float) -> Plan:
        rng = self.rng
        sides = sorted(self.sides_of[domain])
        if len(sides) == 2:
            scope = rng.choices(("hospital", "municipality", "joint"), (45, 30, 25))[0]
        else:
            scope = sides[0]
        code = {"hospital": "H", "municipality": "M", "joint": "J"}[scope]
        forum = f"{domain}-{code}" if f"{domain}-{code}" in self.forums else "FBG"
        plan = Plan(key, domain, rng.choice(self.modules_of[domain]), scope,
                    rng.choices(("critical", "high", "medium", "low"), (8, 22, 45, 25))[0],
                    forum, created)  # fmt: skip
        plan.first_forum = forum
        t = created
        withdraw_after = None
        if target == WITHDRAWN:
            withdraw_after = rng.choice(STAGES[:6])
            target = withdraw_after
        if rng.random() < (0.15 if target == "proposed" else 0.07):
            t = self.escalate(plan, t, pace)
        if target != "proposed":
            t = plan.step(self.later(t, self.gap(10, 30) * pace), "decide",
                          deciders=rng.sample(self.members[plan.forum],
                                              min(len(self.members[plan.forum]),
                                                  rng.randint(1, 3))))  # fmt: skip
            if rng.random() < 0.08 and STAGE_RANK[target] >= STAGE_RANK["decided"]:
                first = rng.choice(("demonstrated", "approved", "in_test", "tested"))
                t = self.build_round(plan, t, first, pace, final=False)
                t = plan.step(self.later(t, self.gap(5, 20) * pace), "revise",
                              reason=rng.choice(REVISE_REASONS))  # fmt: skip
            if target != "decided":
                t = self.build_round(plan, t, target, pace, final=True)
        if withdraw_after is not None:
            plan.step(self.later(t, self.gap(5, 30) * pace), "withdraw",
                      reason=rng.choice(WITHDRAW_REASONS))  # fmt: skip
        return plan

    def escalate(self, plan: Plan, t: int, pace: float) -> int:
        path = ["FBG", "STYR"] if self.forums[plan.forum]["level"] == 1 else ["STYR"]
        if len(path) == 2 and self.rng.random() < 0.75:
            path = path[:1]
        for forum in path:
            t = plan.step(self.later(t, self.gap(7, 20) * pace), "escalate", to=forum,
                          reason=self.rng.choice(ESCALATION_REASONS))  # fmt: skip
            plan.forum = forum
        return t

    def build_round(self, plan: Plan, t: int, target: str, pace: float, *, final: bool) -> int:
        """From decided (or a revision) through build, demo, verdicts and tests to `target`."""
        rng = self.rng
        t = plan.step(self.later(t, self.gap(5, 20) * pace), "start_build")
        if final and STAGE_RANK[target] >= STAGE_RANK["in_build"] and rng.random() < 0.14:
            t = plan.step(self.later(t, self.gap(7, 25) * pace), "mark_built")
            t = self.demo(plan, t, pace)
            approvers = self.approvers(plan)
            for email in approvers[: rng.randint(0, 1)]:
                t = self.verdict(plan, t, email, "approve", pace)
            critic = rng.choice(self.pool[plan.domain, self.side_of_scope(plan)])
            t = self.verdict(plan, t, critic, "changes_requested", pace)
            if target == "in_build":
                return t
        elif target == "in_build":
            return t
        t = plan.step(self.later(t, self.gap(7, 25) * pace), "mark_built")
        plan.built = t
        if target == "built":
            return t
        t = self.demo(plan, t, pace)
        approvers = self.approvers(plan)
        if target == "demonstrated":
            for email in self.partial(plan, approvers):
                t = self.verdict(plan, t, email, "approve", pace)
            return t
        for email in approvers:
            t = self.verdict(plan, t, email, "approve", pace)
        if target == "approved":
            if rng.random() < 0.3:
                plan.cases.append(self.new_case(plan, self.later(t, self.gap(2, 10) * pace)))
            return t
        return self.test(plan, t, target, pace)

    def side_of_scope(self, plan: Plan) -> str:
        if plan.scope != "joint":
            return plan.scope
        return self.rng.choice(("hospital", "municipality"))

    def approvers(self, plan: Plan) -> list[str]:
        """Domain experts enough for the approval rule, from both sides when joint."""
        rng = self.rng
        needed = approvers_needed(plan.criticality, RULE)
        needed += rng.random() < 0.15  # sometimes one more than needed
        if plan.scope == "joint":
            chosen = [rng.choice(self.pool[plan.domain, "hospital"]),
                      rng.choice(self.pool[plan.domain, "municipality"])]  # fmt: skip
            others = sorted(set(self.pool[plan.domain, "hospital"] + self.pool[plan.domain, "municipality"]) - set(chosen))  # fmt: skip
        else:
            chosen, others = [], list(self.pool[plan.domain, plan.scope])
        chosen += rng.sample(others, min(len(others), max(0, needed - len(chosen))))
        rng.shuffle(chosen)
        return chosen

    def partial(self, plan: Plan, approvers: list[str]) -> list[str]:
        """Approvals that fall short of the rule: too few, or one side missing."""
        if plan.scope == "joint" and self.rng.random() < 0.4:
            side = self.rng.choice(("hospital", "municipality"))
            one_side = self.pool[plan.domain, side]
            return self.rng.sample(one_side, min(len(one_side), 2))
        needed = approvers_needed(plan.criticality, RULE)
        return approvers[: self.rng.randint(0, needed - 1)]

    def verdict(self, plan: Plan, t: int, email: str, verdict: str, pace: float) -> int:
        t = self.later(t, self.gap(0.5, 7) * pace)
        comment = self.rng.choice(CHANGE_COMMENTS) if verdict == "changes_requested" else ""
        plan.verdicts.append((t, email, verdict, comment))
        return t

    def demo(self, plan: Plan, t: int, pace: float) -> int:
        rng = self.rng
        slot = self.slot(self.later(t, self.gap(1, 10) * pace), plan.module)
        pool = self.pool[plan.domain, "hospital"] + self.pool[plan.domain, "municipality"]
        attendees = rng.sample(pool, min(len(pool), rng.randint(2, 6)))
        invitees = list(
            dict.fromkeys(attendees + rng.sample(pool, min(len(pool), rng.randint(0, 3))))
        )
        presenter = rng.choice(self.analysts[plan.domain])
        plan.demos.append((slot, attendees, invitees, presenter))
        return slot

    def new_case(self, plan: Plan, t: int) -> Case:
        rng = self.rng
        kind = rng.choices(("application", "integrated", "acceptance", "regression"), (5, 3, 2, 1))[0]  # fmt: skip
        aspect = rng.choice(ASPECTS)
        return Case(kind, f"{plan.module} {TEST_KINDS[kind]}: {aspect}", t)

    def test(self, plan: Plan, t: int, target: str, pace: float) -> int:
        """Test cases and runs: the latest run of every case passes for tested and ready;
        at least one fails or is blocked for in_test."""
        rng = self.rng
        cases = [self.new_case(plan, self.later(t, self.gap(2, 10) * pace))
                 for _i in range(rng.choice((1, 1, 1, 2)))]  # fmt: skip
        plan.cases.extend(cases)
        failing = rng.randrange(len(cases)) if target == "in_test" else -1
        last = t
        for index, case in enumerate(cases):
            r = self.later(case.created, self.gap(3, 15) * pace)
            for _i in range(rng.choice((0, 0, 1, 1, 2)) if index != failing else rng.randint(0, 1)):
                r = self.run(plan, case, r, rng.choice(("failed", "failed", "blocked")), True, pace)  # fmt: skip
            if index == failing:
                r = self.run(plan, case, r, rng.choice(("failed", "failed", "blocked")), False, pace)  # fmt: skip
            else:
                case.runs.append((r, "passed", self.tester(), None))
            last = max(last, r)
        if target == "ready":
            plan.step(self.later(last, self.gap(3, 20) * pace), "mark_ready")
        return last

    def run(self, plan: Plan, case: Case, t: int, result: str, fixed: bool, pace: float) -> int:
        """A failed or blocked run, with its defect; `fixed` when a later run passes."""
        rng = self.rng
        defect = None
        if result == "failed" and rng.random() < 0.8:
            vendor = rng.choices((1, 2, 3, 4), (6, 20, 44, 30))[0]
            clinical = vendor
            if rng.random() < 0.25:  # the clinicians judge it differently, usually worse
                clinical = min(4, max(1, vendor + rng.choice((-2, -1, -1, 1))))
            modules = {m["code"]: m["name"] for m in self.lists["modules"]}
            status = rng.choice(("fixed", "closed", "closed")) if fixed else rng.choice(("open", "open", "open", "deferred"))  # fmt: skip
            defect = {"title": f"{modules[plan.module]}: {rng.choice(DEFECT_PROBLEMS)}",
                      "severity_vendor": vendor, "severity_clinical": clinical,
                      "status": status, "decision": plan.key, "opened": t}  # fmt: skip
        case.runs.append((t, result, self.tester(), defect))
        nxt = self.later(t, self.gap(2, 10) * pace)
        if defect and fixed:
            defect["closed"] = nxt - 3600
        return nxt

    def tester(self) -> str:
        return self.rng.choice(self.by_role[TESTER]).email

    def share_test_cases(self) -> None:
        """Some passing test cases also cover another decision of the same module whose own
        tests passed in the same period (integrated tests touch several decisions)."""
        by_module = defaultdict(list)  # decisions whose every own test case passed at last
        for plan in self.plans:
            passed = all(c.runs and c.runs[-1][1] == "passed" for c in plan.cases)
            if plan.cases and plan.built is not None and passed:
                by_module[plan.module].append(plan)
        for plan in self.plans:
            for case in plan.cases:
                case.decisions = [plan.key]
                if not case.runs or case.runs[-1][1] != "passed" or self.rng.random() > 0.15:
                    continue
                if any(r[3] and r[3]["status"] in ("open", "deferred") for r in case.runs):
                    continue
                first_run = case.runs[0][0]
                others = [
                    o for o in by_module[plan.module] if o is not plan and o.built <= first_run
                ]
                if others:
                    case.decisions.append(self.rng.choice(others).key)

    # Keys and ids in time order -------------------------------------------------------------

    def number_evidence(self) -> None:
        """Keys for demos, test cases and defects, ids for verdicts and runs, in time order
        (the stage rules break ties between verdicts or runs by id)."""
        self.demo_rows: dict[tuple[str, int], dict] = {}
        for plan in self.plans:
            for slot, attendees, invitees, presenter in plan.demos:
                demo = self.demo_rows.setdefault(
                    (plan.module, slot),
                    {
                        "decisions": [],
                        "attendees": [],
                        "invitees": [],
                        "presenter": presenter,
                        "shown": {},
                    },
                )
                demo["decisions"].append(plan.key)
                demo["attendees"] += [a for a in attendees if a not in demo["attendees"]]
                demo["invitees"] += [i for i in invitees if i not in demo["invitees"]]
        for number, (module, slot) in enumerate(sorted(self.demo_rows, key=lambda k: (k[1], k[0])), 1):  # fmt: skip
            self.demo_rows[module, slot]["key"] = f"DEMO-{number:04d}"
        verdicts = sorted((v[0], p, j) for p, plan in enumerate(self.plans)
                          for j, v in enumerate(plan.verdicts))  # fmt: skip
        self.verdict_id = {(p, j): n for n, (_t, p, j) in enumerate(verdicts, 1)}
        cases = sorted((c.created, p, j) for p, plan in enumerate(self.plans)
                       for j, c in enumerate(plan.cases))  # fmt: skip
        self.cases = []
        for number, (_t, p, j) in enumerate(cases, 1):
            case = self.plans[p].cases[j]
            case.key = f"TC-{number:04d}"
            self.cases.append(case)
        runs = sorted((r[0], n, j) for n, c in enumerate(self.cases) for j, r in enumerate(c.runs))
        self.run_rows, defects = [], 0
        for number, (_t, n, j) in enumerate(runs, 1):
            case = self.cases[n]
            t, result, tester, defect = case.runs[j]
            if defect is not None:
                defects += 1
                defect.update(key=f"DEF-{defects:04d}", test_case=case.key)
            self.run_rows.append((number, case.key, t, result, defect, tester))

    # Replaying each life through the stage rules --------------------------------------------

    def replay_all(self, progress: Callable[[float, str], None]) -> None:
        covering = defaultdict(list)
        for case in self.cases:
            for key in case.decisions:
                covering[key].append(case)
        runs_of = defaultdict(list)
        for number, case_key, t, result, _defect, tester in self.run_rows:
            runs_of[case_key].append((t, number, result, tester))
        self.decision_rows, self.versions, self.deciders, self.orgs = [], [], [], []
        self.defects_of = self.severe_defects_by_decision()
        for index, plan in enumerate(self.plans):
            self.replay(index, plan, covering[plan.key], runs_of)
            if index % max(1, len(self.plans) // 10) == 0:
                progress(0.5 + 0.3 * index / len(self.plans), _("Replaying decision histories"))

    def severe_defects_by_decision(self) -> dict[str, list[dict]]:
        """Each decision's severity 1-2 defects, directly or through a test case that covers
        it, with when each stops being open (`until`)."""
        cases = {c.key: c for c in self.cases}
        found = defaultdict(list)
        for _n, case_key, t, _result, defect, _tester in self.run_rows:
            if defect and min(defect["severity_vendor"], defect["severity_clinical"]) <= 2:
                ends = t + 3600 if defect["status"] != "open" else 2 * CLOCK_T
                defect["until"] = defect.get("closed") or ends
                for key in {defect["decision"], *cases[case_key].decisions}:
                    found[key].append(defect)
        return found

    def happenings(self, index: int, plan: Plan, cases: list[Case], runs_of: dict) -> list:
        found: list[tuple] = [(t, 0, n, kind, data) for n, (t, kind, data) in enumerate(plan.steps)]
        for j, (t, email, verdict, comment) in enumerate(plan.verdicts):
            number = self.verdict_id[index, j]
            side = self.person(email).side
            found.append((t, 1, number, "verdict", (VerdictFact(email, verdict, iso(t), side, True, number), email, comment)))  # fmt: skip
        for slot, *_people in plan.demos:
            demo = self.demo_rows[plan.module, slot]
            found.append((slot, 1, 0, "demo", (DemoFact(iso(slot), len(demo["attendees"])), demo)))  # fmt: skip
        for case in cases:
            found.append((case.created, 1, 0, "case", case.key))
            for t, number, result, tester in runs_of[case.key]:
                found.append((t, 1, number, "run", (case.key, RunFact(iso(t), result, number), tester)))  # fmt: skip
        found.sort(key=lambda h: h[:3])
        return found

    def replay(self, index: int, plan: Plan, cases: list[Case], runs_of: dict) -> None:
        rng = self.rng
        topic, aspect = rng.choice(TOPICS[plan.domain]), rng.choice(ASPECTS)
        side_pool = self.pool[plan.domain, self.side_of_scope(plan)]
        owner = rng.choice(side_pool) if rng.random() < 0.85 else None
        life = Life(self, plan, topic, analyst=rng.choice(self.analysts[plan.domain]),
                    manager=rng.choice(self.by_role[MANAGER]).email)  # fmt: skip
        proposer = self.actor(owner or rng.choice(side_pool))
        proposal = {"key": plan.key, "title": f"{topic}: {aspect}"}
        self.add(services.plan_proposal(proposal, proposer, iso(plan.created))[1])
        for t, _rank, _number, kind, data in self.happenings(index, plan, cases, runs_of):
            life.happen(iso(t), kind, data)
        self.add_decision_row(plan, life, f"{topic}: {aspect}", topic, aspect, owner)

    def decision_text(self, plan: Plan, topic: str, unlike: str = "") -> str:
        """A decision's text; a revision's (`unlike`: the text it revises) says another
        option: the one listed before the drawn one where the draw repeats the text."""
        index = self.rng.randrange(len(OPTIONS))
        text = f"{WHO[plan.scope]} bruker {OPTIONS[index]} for {lowered(topic)}."
        if text == unlike:
            text = f"{WHO[plan.scope]} bruker {OPTIONS[index - 1]} for {lowered(topic)}."
        return text

    def add_decision_row(
        self, plan: Plan, life: Life, title: str, topic: str, aspect: str, owner: str | None
    ) -> None:
        rng = self.rng
        hospitals = [o[0] for o in ORGANIZATIONS if o[2] == "hospital"]
        municipal = [o[0] for o in ORGANIZATIONS if o[2] != "hospital"]
        all_orgs = plan.scope == "joint" and rng.random() < 0.6 or rng.random() < 0.05
        if all_orgs:
            orgs = []
        elif plan.scope == "hospital":
            orgs = hospitals if rng.random() < 0.4 else rng.sample(hospitals, rng.randint(1, 2))
        elif plan.scope == "municipality":
            orgs = municipal if rng.random() < 0.3 else rng.sample(municipal, rng.randint(1, 5))
        else:
            orgs = rng.sample(hospitals, rng.randint(1, 3)) + rng.sample(municipal, rng.randint(1, 6))  # fmt: skip
        self.orgs += [(plan.key, o) for o in sorted(orgs)]
        due = plan.created + rng.randint(45, 300) * DAY
        if life.decision["stage"] == "proposed":  # one open proposal in six is late
            self.proposals += 1
            late = self.proposals % 6 == 1
            due = CLOCK_T + rng.randint(1, 60) * DAY * (-1 if late else 1)
        needed_by = EPOCH + dt.timedelta(seconds=due)
        d = life.decision
        self.decision_rows.append((
            plan.key, title, plan.domain, plan.module, d["forum"], plan.scope, int(all_orgs),
            plan.criticality, d["stage"], d["base_stage"], d["built_at"], d["ready_at"],
            d["version"], d["version_started_at"],
            f"Hvordan skal vi løse {aspect} for {lowered(topic)}?", d["decision"],
            d["rationale"], d["decided_at"], needed_by.date().isoformat(), owner,
            d["withdrawn_reason"], iso(plan.created), d["stage_since"],
        ))  # fmt: skip

    def demo_place(self, key: str) -> tuple[str, str]:
        """Where a demo happens: a meeting room, a video meeting, or both."""
        rng = random.Random(key)  # its own, so the programme's random sequence stays as it was
        room, link = rng.choice(DEMO_ROOMS), f"https://meet.example.org/demo-{key.lower()}"
        return rng.choice(((room, ""), ("", link), (room, link)))

    # Scheduled demos, criteria and measurements -----------------------------------------------

    def schedule_demos(self) -> None:
        """Future demos (invitations, no attendees yet) for some of the built decisions."""
        number = len(self.demo_rows)
        for row in self.decision_rows:
            key, domain, module, stage = row[0], row[2], row[3], row[8]
            if stage != "built" or self.rng.random() > 0.6:
                continue
            slot = self.slot(CLOCK_T + self.rng.randint(1, 30) * DAY, module)
            pool = self.pool[domain, "hospital"] + self.pool[domain, "municipality"]
            if (module, slot) not in self.demo_rows:
                number += 1
                self.demo_rows[module, slot] = {
                    "key": f"DEMO-{number:04d}", "decisions": [], "attendees": [],
                    "invitees": [], "presenter": self.rng.choice(self.analysts[domain]),
                    "shown": {},
                }  # fmt: skip
            demo = self.demo_rows[module, slot]
            demo["decisions"].append(key)
            invited = self.rng.sample(pool, min(len(pool), self.rng.randint(3, 6)))
            demo["invitees"] += [e for e in invited if e not in demo["invitees"]]

    def criteria(self) -> tuple[list[tuple], list[tuple]]:
        """Each wave's default criteria, two waivers for St. Olavs (one expired), and the
        reported measurements with their history up to the clock."""
        rng = self.rng
        managers = [p.email for p in self.by_role[MANAGER]]
        waivers = {
            ("W2", "C4N"): ("Regresjonstestene er planlagt i den siste integrasjonstestrunden "
                            "i oktober, før produksjonssettingen", "2022-11-30", "2022-07-04T10:00:00"),
            ("W2", "C5B"): ("Restliste med alvorlighetsgrad 2 godtatt fram til augustleveransen",
                            "2022-08-31", "2022-06-13T10:00:00"),
        }  # fmt: skip
        criteria, measurements = [], []
        for wave, *_rest in WAVES:
            for code, name, kind, metric, comparator, threshold in DEFAULT_CRITERIA:
                owner = rng.choice(managers)
                reason, until, at = waivers.get((wave, code), (None, None, None))
                criteria.append((wave, code, name, kind, metric, comparator, threshold, owner,
                                 reason, until))  # fmt: skip
                record = dict(zip(planning.CRITERION_FIELDS, criteria[-1][2:], strict=True))
                unwaived = {**record, "waiver_reason": None, "waiver_until": None}
                steps = [("2021-06-01T09:00:00", None, unwaived)]
                if reason:  # the owner grants the waiver later, as an edit
                    steps.append((at, unwaived, record))
                for when, before, after in steps:
                    for event in planning.criterion_events(self.actor(owner), when, wave, code,
                                                           before, after)[1]:  # fmt: skip
                        self.add(event, rank=0)
        owner_of = {(c[0], c[1]): c[7] for c in criteria}
        for wave, code, values in MEASUREMENTS:
            for date, value in values:
                noisy = round(value + rng.uniform(-1, 1), 1) if code == "R7" else value
                measurements.append((len(measurements) + 1, wave, code, date, noisy,
                                     owner_of[wave, code],
                                     f"https://helseplattformen.example/evidence/{wave}/{code}/{date}"))  # fmt: skip
                reporter = self.actor(owner_of[wave, code])
                criterion = {"kind": "reported", "owner": owner_of[wave, code]}
                planning.check_measurement(reporter, criterion, wave, code, reporter.email,
                                           reporter)  # fmt: skip
                services.check_not_future(date, NOW, "date")
                reported = {"wave": wave, "criterion": code, "date": date, "value": noisy}
                self.add(planning.measurement_event(reporter, f"{date}T15:00:00",
                                                    len(measurements), reported), rank=0)  # fmt: skip
        return criteria, measurements

    # Writing ------------------------------------------------------------------------------------

    def setup_events(self, manager: str) -> None:
        at = "2020-01-06T08:00:00"
        for code, name, *_rest in ORGANIZATIONS:
            self.event(at, "system", "organization", code, "created", None, name, rank=-1)
        for code, name, go_live, _orgs in WAVES:
            first = REPLAN[1] if code == REPLAN[0] else go_live
            self.event(at, manager, "wave", code, "created", None, first, name, rank=-1)
        wave, old, new, replanned_at, reason = REPLAN
        self.replan, replanned = planning.plan_replan(
            self.actor(manager), replanned_at, {"code": wave, "go_live": old}, new, reason
        )
        self.add(replanned, rank=0)
        for p in self.people:
            new_person = {"email": p.email, "name": p.name, "roles": p.roles}
            for created in admin.expert_events(SYSTEM_ACTOR, at, None, new_person):
                self.add(created, rank=-1)

    def add(self, event: dict, rank: int = 1) -> None:
        """An event a use case's step planned."""
        self.events.append((event["at"], rank, event))

    def evidence_rows(self) -> dict[str, list[tuple]]:
        """Rows of the evidence tables, with the events that recorded them."""
        tables: dict[str, list[tuple]] = defaultdict(list)
        for demo in sorted(self.demo_rows.values(), key=lambda d: d["key"]):
            if not demo["attendees"]:  # when it was scheduled
                demo["scheduled_at"] = CLOCK_T - self.rng.randint(1, 20) * DAY
        for p, plan in enumerate(self.plans):
            for j, (t, email, verdict, comment) in enumerate(plan.verdicts):
                number = self.verdict_id[p, j]
                if number in self.refused_verdicts:
                    continue
                tables["approvals"].append((number, plan.key, email, verdict, iso(t), comment))
                expert = self.actor(email)
                evidence.check_verdict_author(expert, email)
                services.check_not_future(iso(t), NOW, "date")
                given = {"decision": plan.key, "verdict": verdict, "comment": comment}
                self.add(evidence.verdict_event(expert, iso(t), number, given), rank=0)
        tables["approvals"].sort()
        for case in self.cases:
            tables["test_cases"].append((case.key, case.title, case.kind))
            tables["test_case_decisions"] += [(case.key, k) for k in case.decisions]
            author = self.actor(self.tester())
            permissions.check(author, "save_test_case")
            self.add(evidence.test_case_event(author, iso(case.created), case.key, None,
                                              case.decisions, case.title), rank=0)  # fmt: skip
        covered = {case.key: bool(case.decisions) for case in self.cases}
        for number, case_key, t, result, defect, tester in self.run_rows:
            actor = self.actor(tester)
            if defect:
                self.defect_rows(tables, actor, defect, case_key, t)
            run = {"test_case": case_key, "result": result,
                   "defect": defect["key"] if defect else None}  # fmt: skip
            permissions.check(actor, "record_test_run")
            evidence.check_run_case(case_key, known=True, covers=covered[case_key])
            services.check_person_may(tester, actor, "tester", "record_test_run")
            services.check_not_future(iso(t), NOW, "date")
            tables["test_runs"].append(
                (number, case_key, iso(t), result, tester, run["defect"], "")
            )
            self.add(evidence.run_event(actor, iso(t), number, run), rank=0)
        return tables

    def demo_tables(self, conn: sqlite3.Connection) -> dict[str, list[tuple]]:
        """Rows of the demo tables, each demo saved by the app's rule (evidence.plan_demo) as
        its presenter recorded it: reading the decisions it showed as they were then, the
        directory, modules and clock as written, with the event that recorded it."""
        tables: dict[str, list[tuple]] = defaultdict(list)
        lookups = services.Lookups(conn, NOW)
        for (module, slot), demo in sorted(self.demo_rows.items(), key=lambda i: i[1]["key"]):
            key, held = demo["key"], bool(demo["attendees"])
            notes = random.Random(f"{key}:notes").choice(DEMO_NOTES) if held else ""
            place, meeting_url = self.demo_place(key)
            shown = list(dict.fromkeys(demo["decisions"]))
            lookups.decisions = dict(demo["shown"])
            record, invitees, attendees = evidence.plan_demo(
                conn, None, module=module, date=iso(slot), decisions=shown,
                presenter=demo["presenter"], invitees=demo["invitees"],
                attendees=demo["attendees"], notes=notes, held=held,
                start_time=iso(slot)[11:16], place=place, meeting_url=meeting_url,
                lookups=lookups,
            )  # fmt: skip
            tables["demos"].append(tuple({"key": key, **record}[c] for c in DEMO_COLUMNS))
            tables["demo_decisions"] += [(key, k) for k in shown]
            tables["demo_attendees"] += [(key, e) for e in attendees]
            tables["demo_invitees"] += [(key, e) for e in invitees]
            at = slot if held else demo["scheduled_at"]
            presenter = self.actor(demo["presenter"])
            permissions.check(presenter, "record_demo")
            self.add(evidence.demo_event(presenter, iso(at), key, None, record, invitees,
                                         attendees), rank=0)  # fmt: skip
        return tables

    def defect_rows(self, tables: dict, actor: Actor, defect: dict, case_key: str, t: int) -> None:
        """A defect a failed run opened, and its status since, with their events."""
        permissions.check(actor, "save_defect")
        closed = defect.get("closed")
        tables["defects"].append((
            defect["key"], defect["title"], defect["severity_vendor"],
            defect["severity_clinical"], defect["status"], defect["decision"], case_key,
            iso(t)[:10], iso(closed)[:10] if closed else None,
        ))  # fmt: skip
        self.add(evidence.defect_event(actor, iso(t), {**defect, "status": "open"}, None), rank=0)
        if defect["status"] != "open":
            self.add(evidence.defect_event(actor, iso(closed or t + 3600), defect,
                                           {"status": "open"}), rank=0)  # fmt: skip

    def write(self, conn: sqlite3.Connection, with_lists: bool) -> None:
        manager = self.by_role[MANAGER][0].email
        self.setup_events(manager)
        tables = self.evidence_rows()
        criteria, measurements = self.criteria()
        people = self.people
        inserts = [
            ("organizations", ("code", "name", "kind"), [o[:3] for o in ORGANIZATIONS]),
            ("waves", ("code", "name", "go_live"), [w[:3] for w in WAVES]),
            ("wave_organizations", ("wave", "organization"),
             [(w[0], o) for w in WAVES for o in w[3]]),
            ("wave_replans", ("wave", "old_go_live", "new_go_live", "reason", "replanned_by",
                              "replanned_at"),
             [tuple(self.replan[c] for c in ("wave", "old_go_live", "new_go_live", "reason",
                                              "replanned_by", "replanned_at"))]),
            ("experts", ("email", "name", "organization", "allocation_pct"),
             [(p.email, p.name, p.organization, p.allocation) for p in people]),
            ("expert_domains", ("expert", "domain"), [(p.email, d) for p in people for d in p.domains]),
            ("expert_roles", ("expert", "role"), [(p.email, r) for p in people for r in p.roles]),
            ("forum_members", ("forum", "expert"), [(f, e) for f, es in self.members.items() for e in es]),
            ("decisions", DECISION_COLUMNS, self.decision_rows),
            ("decision_organizations", ("decision", "organization"), self.orgs),
            ("decision_deciders", ("decision", "expert"), self.deciders),
            ("decision_versions", ("decision", "version", "decision_text", "rationale",
                                   "started_at", "reason"), self.versions),
            ("approvals", ("id", "decision", "expert", "verdict", "date", "comment"),
             tables["approvals"]),
            ("test_cases", ("key", "title", "kind"), tables["test_cases"]),
            ("test_case_decisions", ("test_case", "decision"), tables["test_case_decisions"]),
            ("defects", ("key", "title", "severity_vendor", "severity_clinical", "status",
                         "decision", "test_case", "opened", "closed"), tables["defects"]),
            ("test_runs", ("id", "test_case", "date", "result", "tester", "defect", "notes"),
             tables["test_runs"]),
            ("criteria", ("wave", "code", "name", "kind", "metric", "comparator", "threshold",
                          "owner", "waiver_reason", "waiver_until"), criteria),
            ("measurements", ("id", "wave", "criterion", "date", "value", "reported_by",
                              "evidence_url"), measurements),
        ]  # fmt: skip
        with store.transaction(conn):
            if with_lists:
                for e in programme.insert_reference_lists(conn, self.lists, SYSTEM_ACTOR, "2020-01-06T07:00:00"):  # fmt: skip
                    self.events.append((e["at"], -2, e))
            for setting, value in SETTINGS.items():
                settings.put(conn, setting, value)
            for table, columns, values in inserts:
                write.insert_rows(conn, table, columns, values)
            demos = self.demo_tables(conn)
            for table, columns in DEMO_TABLES.items():
                write.insert_rows(conn, table, columns, demos[table])
            ordered = sorted(range(len(self.events)), key=lambda i: self.events[i][:2] + (i,))
            store.append_events(conn, [self.events[i][2] for i in ordered])


class Life:
    """One decision's life replayed in time order as the app records it: each manual step
    through its use case's plan (services.plan_escalate, plan_decide, plan_manual_stage,
    plan_revise), each piece of evidence through its rule, then the stage the evidence gives
    (services.plan_stage_refresh), as the use case's refresh writes it."""

    def __init__(self, gen: Generator, plan: Plan, topic: str, *, analyst: str, manager: str):
        self.gen, self.plan, self.topic = gen, plan, topic
        self.analyst, self.manager = analyst, manager
        self.decision = {
            "key": plan.key, "domain": plan.domain, "module": plan.module,
            "forum": plan.first_forum, "stage": "proposed", "base_stage": "proposed",
            "built_at": None, "ready_at": None, "version": 1, "version_started_at": None,
            "stage_since": iso(plan.created), "decision": "", "rationale": "",
            "decided_at": None, "withdrawn_reason": None,
        }  # fmt: skip
        self.demos: list[DemoFact] = []
        self.verdicts: list[VerdictFact] = []
        self.runs: dict[str, list[RunFact]] = {}

    def write(self, changes: dict, events: list[dict]) -> None:
        self.decision.update(changes)
        self.gen.events += [(e["at"], 1, e) for e in events]

    def happen(self, at: str, kind: str, data) -> None:
        handled = getattr(self, f"on_{kind}")(at, data)
        if handled is not None:
            self.settle(at, *handled)

    def facts(self) -> DecisionFacts:
        """What the stage is derived from (before built the hand-set stage alone counts, so
        the evidence is left out for speed)."""
        d = self.decision
        if d["base_stage"] != "built":
            return DecisionFacts(d["base_stage"], ready_marked=d["ready_at"] is not None)
        return DecisionFacts(
            d["base_stage"], d["built_at"], d["ready_at"] is not None, self.plan.scope,
            self.plan.criticality, tuple(self.demos), tuple(self.verdicts),
            {c: tuple(r) for c, r in self.runs.items()},
        )  # fmt: skip

    def settle(self, at: str, actor: str, why: str) -> None:
        """The stage the evidence gives now, as the use cases' refresh writes it."""
        self.write(*services.plan_stage_refresh(
            self.plan.key, self.facts(), self.decision["stage"], RULE, self.gen.actor(actor),
            at, why, lambda: self.decision))  # fmt: skip

    # Manual steps: each returns who took it and why the stage may move on, or None.

    def step(self, action: str, at: str, actor: str, reason: str | None = "") -> None:
        severe = self.gen.severe_defects(self.plan.key, at) if action == "mark_ready" else ()
        changes, moved = services.plan_manual_stage(
            self.decision, self.gen.actor(actor), at, action, reason=reason, severe_defects=severe
        )
        self.write(changes, [moved])

    def on_escalate(self, at: str, data: dict) -> None:
        forum = self.decision["forum"]
        actor = self.gen.rng.choice(self.gen.members[forum] or [self.manager])
        changes, escalated = services.plan_escalate(
            self.decision, self.gen.actor(actor), at, to_forum=data["to"], reason=data["reason"],
            current=self.gen.forums[forum], target=self.gen.forums[data["to"]],
        )  # fmt: skip
        self.write(changes, [escalated])

    def on_decide(self, at: str, data: dict) -> None:
        forum = self.decision["forum"]
        deciders = data["deciders"] or [self.manager]
        text = self.gen.decision_text(self.plan, self.topic)
        rationale = self.gen.rng.choice(RATIONALES)
        changes, deciders, version, moved = services.plan_decide(
            self.decision, self.gen.actor(deciders[0]), at, decision_text=text,
            rationale=rationale, decided_by=deciders, members=self.gen.members[forum],
            decided_on=at,
        )  # fmt: skip
        self.gen.deciders += [(self.plan.key, e) for e in deciders]
        self.gen.versions.append(tuple(version[c] for c in VERSION_COLUMNS))
        self.write(changes, [moved])

    def on_start_build(self, at: str, data: dict) -> None:
        self.step("start_build", at, self.analyst)

    def on_mark_built(self, at: str, data: dict) -> tuple[str, str]:
        self.step("mark_built", at, self.analyst)
        return self.analyst, "evidence on record"

    def on_revise(self, at: str, data: dict) -> None:
        author = self.gen.rng.choice(self.gen.members[self.decision["forum"]] or [self.manager])
        changes, version, events = services.plan_revise(
            self.decision, self.gen.actor(author), at,
            decision_text=self.gen.decision_text(self.plan, self.topic, self.decision["decision"]),
            rationale=None,
            reason=data["reason"],
        )  # fmt: skip
        self.gen.versions.append(tuple(version[c] for c in VERSION_COLUMNS))
        self.write(changes, events)

    def on_withdraw(self, at: str, data: dict) -> None:
        self.step("withdraw", at, self.manager, data["reason"])

    def on_mark_ready(self, at: str, data: dict) -> tuple[str, str] | None:
        if self.decision["stage"] != "tested":
            return None  # a shared test case failed since: the manager does not mark it
        self.step("mark_ready", at, self.manager, "marked ready for production")
        return self.manager, "evidence on record"

    # Evidence: each returns who recorded it and why the stage may move.

    def on_verdict(self, at: str, data: tuple) -> tuple[str, str] | None:
        """A verdict the rule refuses (a shared test case carried the decision past approved
        before the expert came to it) is not given: the programme holds what the app took."""
        fact, expert, comment = data
        try:
            evidence.check_verdict(self.decision, expert, self.gen.actor(expert), fact.verdict,
                                   comment, fact.date)  # fmt: skip
        except WorkflowError:
            self.gen.refused_verdicts.add(fact.seq)
            return None
        self.verdicts.append(fact)
        return expert, f"{fact.verdict} by {expert}"

    def on_demo(self, at: str, data: tuple) -> tuple[str, str]:
        fact, demo = data
        demo["shown"][self.plan.key] = dict(self.decision)  # as the demo's rule reads it then
        self.demos.append(fact)
        return demo["presenter"], f"demo {demo['key']}"

    def on_case(self, at: str, case_key: str) -> tuple[str, str]:
        self.runs.setdefault(case_key, [])
        return self.analyst, f"test case {case_key}"

    def on_run(self, at: str, data: tuple) -> tuple[str, str]:
        case_key, fact, tester = data
        self.runs.setdefault(case_key, []).append(fact)
        return tester, f"test run of {case_key}: {fact.result}"


DEMO_COLUMNS = ("key", "date", "module", "presenter", "held", "notes", "recording_url",
                "start_time", "duration_min", "place", "meeting_url")  # fmt: skip
DEMO_TABLES = {
    "demos": DEMO_COLUMNS,
    "demo_decisions": ("demo", "decision"),
    "demo_attendees": ("demo", "expert"),
    "demo_invitees": ("demo", "expert"),
}
VERSION_COLUMNS = ("decision", "version", "decision_text", "rationale", "started_at", "reason")
DECISION_COLUMNS = (
    "key", "title", "domain", "module", "forum", "scope", "all_organizations", "criticality",
    "stage", "base_stage", "built_at", "ready_at", "version", "version_started_at", "question",
    "decision", "rationale", "decided_at", "needed_by", "owner", "withdrawn_reason",
    "created_at", "stage_since",
)  # fmt: skip
SETTINGS = {
    settings.CLOCK: CLOCK,
    settings.DEMO: True,
    **{setting: getattr(RULE, field) for field, setting in settings.APPROVAL_RULE.items()},
}


def _ignore(fraction: float, message: str) -> None:
    """No progress display."""


def _usable_lists(conn: sqlite3.Connection, lists: dict[str, list[dict]]) -> bool:
    """False when the database has no reference lists yet (the demo adds the defaults); True
    when it holds the defaults (after `init`); refuses any other lists."""
    if not programme.reference_lists_present(conn):
        return False
    for kind in programme.REFERENCE_FILES:
        present = {r["code"] for r in reference.list_table(conn, kind)}
        missing = sorted({r["code"] for r in lists[kind]} - present)
        if missing:
            raise WorkflowError(
                _("the demo needs the default {kind}; missing: {codes}", kind=kind,
                  codes=", ".join(missing[:5]))
            )  # fmt: skip
    return True


def build_demo(
    conn: sqlite3.Connection,
    scale: float = 1,
    seed: int = 7,
    progress: Callable[[float, str], None] | None = None,
) -> str:
    """Create the demo programme in an empty database, in one transaction. Returns a one-line
    summary. The same seed and scale give the same database content."""
    progress = progress or _ignore
    if scale <= 0:
        raise WorkflowError(_("scale must be above 0, not {scale}", scale=scale))
    if not store.is_empty(conn):
        raise WorkflowError(
            _("the database holds a programme already; the demo needs an empty one")
        )
    lists = programme.read_reference_lists()
    with_lists = not _usable_lists(conn, lists)
    generator = Generator(random.Random(seed), scale, lists)
    progress(0.0, _("Creating organisations and experts"))
    generator.make_people()
    generator.make_decisions(progress)
    generator.number_evidence()
    generator.replay_all(progress)
    generator.schedule_demos()
    progress(0.85, _("Writing the programme"))
    with bulk.large_cache(conn):
        generator.write(conn, with_lists)
    progress(0.95, _("Writing the history of notices"))
    sent = notices.record_history(conn, dt.date.fromisoformat(CLOCK))
    progress(1.0, _("Demo programme ready"))
    stages = defaultdict(int)
    for row in generator.decision_rows:
        stages[row[8]] += 1
    return _(
        "{decisions} decisions, {experts} experts, {events} events, {ready} ready, "
        "{sent} notices sent; clock {clock}",
        decisions=format_number(len(generator.decision_rows)),
        experts=format_number(len(generator.people)),
        events=format_number(len(generator.events)),
        ready=format_number(stages["ready"]),
        sent=format_number(sent),
        clock=format_date(dt.date.fromisoformat(CLOCK)),
    )
