"""Demo data of crm_contacts: Bulgarian and European companies with valid VAT numbers, phones and
IBANs, their contact persons, a year of contact history for each demo representative, and their
agenda for today and the coming days.

The generators (names, VAT numbers, phones, IBANs) are also what ``bench/contacts.py`` builds its
100,000 clients with.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import iban
from stdnum.bg import vat as bg_vat_module
from stdnum.iso7064 import mod_11_10
from stdnum.ro import cf as ro_cf

from core import hookimpl
from core.models import User
from crm_contacts.models import (
    Address,
    BankAccount,
    Client,
    Contact,
    ContactType,
    CustomerGroup,
    Email,
    Person,
    Phone,
    Region,
    Tag,
)

SEED = 4
LOCAL = ZoneInfo("Europe/Sofia")  # where the demo company's representatives work
DEMO_REPRESENTATIVES = ("maria", "peter")

PREFIXES = (
    "Bio", "Agro", "Nova", "Balkan", "Dunav", "Rodopa", "Vitosha", "Pirin", "Trakia", "Rila",
    "Strandzha", "Maritsa", "Iskar", "Yantra", "Tundzha", "Struma", "Sredets", "Orfey", "Evro",
    "Mega", "Kamchia", "Arda", "Osam", "Vita", "Eko", "Tehno", "Stroy", "Zlatna", "Sever", "Yug",
    "Alfa", "Chaika", "Delta", "Favorit", "Galaktika", "Helios", "Iglika", "Kristal", "Lotos",
    "Omega", "Progres", "Rubin", "Sila", "Titan", "Uni", "Vega", "Zora", "Hemus", "Fenix", "Jasmin",
    "Lazur", "Kalina", "Gorski", "Bryag", "Ustrem", "Chervena", "Lipa", "Morski", "Nezabravka",
    "Wellness", "Xenon", "Quatro",
)  # fmt: skip
SUFFIXES = (
    "prom", "tech", "trade", "foods", "pharma", "log", "build", "wood", "seeds", "milk", "med",
    "invest", "print", "plast", "chem", "market", "tex", "metal", "glass", "vin",
)  # fmt: skip
EXTRAS = ("", "", "", "Group", "Holding", "Bulgaria", "Partners", "Distribution", "Service")
LEGAL_FORMS = ("OOD", "EOOD", "AD", "EAD", "ET")
# City, postal code, area code of its landlines.
CITIES = (
    ("Sofia", "1000", "2"), ("Plovdiv", "4000", "32"), ("Varna", "9000", "52"),
    ("Burgas", "8000", "56"), ("Ruse", "7000", "82"), ("Stara Zagora", "6000", "42"),
    ("Pleven", "5800", "64"), ("Sliven", "8800", "44"), ("Dobrich", "9300", "58"),
    ("Shumen", "9700", "54"), ("Pernik", "2300", "76"), ("Haskovo", "6300", "38"),
    ("Yambol", "8600", "46"), ("Pazardzhik", "4400", "34"), ("Blagoevgrad", "2700", "73"),
    ("Veliko Tarnovo", "5000", "62"), ("Gabrovo", "5300", "66"), ("Vratsa", "3000", "92"),
)  # fmt: skip
# The demo company's sales regions, by the city of a client's head office (abroad: the rest).
REGIONS = {
    "Sofia": ("Sofia", "Pernik", "Blagoevgrad"),
    "North": ("Ruse", "Pleven", "Veliko Tarnovo", "Gabrovo", "Vratsa", "Shumen"),
    "Black Sea coast": ("Varna", "Burgas", "Dobrich"),
    "South": ("Plovdiv", "Stara Zagora", "Sliven", "Haskovo", "Yambol", "Pazardzhik"),
    "Abroad": (),
}
STREETS = (
    "ul. Vasil Levski", "bul. Bulgaria", "ul. Hristo Botev", "bul. Tsar Osvoboditel",
    "ul. Rakovski", "bul. Maria Luiza", "ul. Ivan Vazov", "ul. Shipka", "bul. Vitosha",
    "ul. Graf Ignatiev", "Industrialna zona", "ul. Knyaz Boris I",
)  # fmt: skip
# Foreign clients: country, city, postal code, phone prefix and digits after it, VAT number maker.
FOREIGN = (
    ("DE", "München", "80331", "+49 89 ", 7, "de"), ("DE", "Hamburg", "20095", "+49 40 ", 7, "de"),
    ("RO", "București", "010011", "+40 21 ", 7, "ro"),
    ("RO", "Constanța", "900001", "+40 241 ", 6, "ro"),
)  # fmt: skip
MALE = ("Ivan", "Georgi", "Dimitar", "Nikolay", "Petar", "Hristo", "Stoyan", "Todor", "Vasil",
        "Kaloyan", "Martin", "Aleksandar", "Borislav", "Plamen")  # fmt: skip
FEMALE = ("Maria", "Elena", "Ivanka", "Desislava", "Gergana", "Tsvetelina", "Nadezhda", "Petya",
          "Vesela", "Yana", "Teodora", "Kristina", "Radostina", "Silvia")  # fmt: skip
SURNAMES = ("Petrov", "Ivanov", "Georgiev", "Dimitrov", "Nikolov", "Stoyanov", "Todorov",
            "Hristov", "Kolev", "Angelov", "Marinov", "Popov", "Yordanov", "Vasilev")  # fmt: skip
POSITIONS = ("Managing director", "Purchasing manager", "Chief accountant", "Warehouse manager",
             "Sales director", "Owner", "Logistics coordinator", "Quality manager",
             "Office manager", "Procurement specialist")  # fmt: skip
DEPARTMENTS = ("Management", "Purchasing", "Accounting", "Logistics", "Sales", "")
# Bank code, BIC, name: the BBAN of a Bulgarian IBAN starts with the bank's four letters.
BANKS = (
    ("UNCR", "UNCRBGSF", "UniCredit Bulbank"), ("STSA", "STSABGSF", "DSK Bank"),
    ("FINV", "FINVBGSF", "First Investment Bank"), ("UBBS", "UBBSBGSF", "United Bulgarian Bank"),
    ("BPBI", "BPBIBGSF", "Postbank"),
)  # fmt: skip
TAGS = ("Horeca", "Export", "Seasonal", "New in 2026", "Needs samples", "Pays late")
GOODS = ("Food supplements", "Dairy products", "Building materials", "Office supplies",
         "Packaging", "Spare parts", "Cosmetics", "Fresh produce")  # fmt: skip
REMARKS = (
    "Order number on every invoice.",
    "Invoices by email to the accounting address, originals by post.",
    "Delivery note and invoice in one envelope.",
    "Mention the contract number and the delivery address.",
    "",
)
SUBJECTS = {
    "visit": ("Presentation of the new range", "Quarterly review", "Stock check and reorder",
              "Complaint about a delivery", "Price list for the season"),
    "meeting": ("Annual agreement", "Negotiation of discounts", "Meeting with the owner"),
    "phone_call": ("Order by phone", "Delivery date", "Overdue invoice", "Follow-up of the offer",
                   "Samples received?"),
    "email": ("Offer sent", "Catalogue sent", "Confirmation of the order"),
    "video_call": ("Product training", "Review with the head office"),
}  # fmt: skip
OUTCOMES = (
    "Order placed for next week.", "Asked for an offer with a 5% discount.",
    "Samples to be sent.", "Will decide after the trade fair.", "Paid the overdue invoice.",
    "Satisfied with the last delivery.", "No order this month.", "",
)  # fmt: skip
DURATIONS = {"visit": (30, 90), "meeting": (45, 120), "phone_call": (3, 25), "email": (5, 15),
             "video_call": (20, 60)}  # fmt: skip


# --- generators ----------------------------------------------------------------------------------


def bg_vat(rng: random.Random) -> str:
    """A valid Bulgarian VAT number of a company (BG + 9 digits, the last a check digit)."""
    digits = f"{rng.randint(10_000_000, 99_999_999)}"
    return f"BG{digits}{bg_vat_module.calc_check_digit_legal(digits)}"


def foreign_vat(rng: random.Random, maker: str) -> str:
    if maker == "de":
        digits = f"{rng.randint(10_000_000, 99_999_999)}"
        return f"DE{digits}{mod_11_10.calc_check_digit(digits)}"
    digits = f"{rng.randint(1_000_000, 9_999_999)}"
    return f"RO{digits}{ro_cf.calc_check_digit(digits)}"


def bg_landline(rng: random.Random, area: str) -> str:
    # Sofia's numbers have 7 digits after the area code, the other cities' 6.
    length = 7 if area == "2" else 6
    first = rng.randint(2, 9)
    rest = "".join(str(rng.randint(0, 9)) for _ in range(length - 1))
    return f"+359 {area} {first}{rest}"


def bg_mobile(rng: random.Random) -> str:
    return f"+359 {rng.choice(('87', '88', '89'))}{rng.randint(2, 9)} {rng.randint(0, 999_999):06d}"


def bg_iban(rng: random.Random) -> tuple[str, str, str]:
    """(IBAN, BIC, bank name) of a valid Bulgarian account."""
    code, bic, name = rng.choice(BANKS)
    branch, kind, account = rng.randint(0, 9999), rng.choice(("10", "15")), rng.randrange(10**8)
    bban = f"{code}{branch:04d}{kind}{account:08d}"
    return f"BG{iban.calc_check_digits(f'BG00{bban}')}{bban}", bic, name


def company_name(rng: random.Random) -> str:
    extra = rng.choice(EXTRAS)
    return " ".join(w for w in (rng.choice(PREFIXES) + rng.choice(SUFFIXES), extra) if w)


def person_name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(MALE)} {rng.choice(SURNAMES)}"
    return f"{rng.choice(FEMALE)} {rng.choice(SURNAMES)}a"


def slug(text: str) -> str:
    return "".join(c for c in text.lower() if c.isascii() and c.isalnum())


def local_time(day: date, hour: int, minute: int) -> datetime:
    """A time of day in the representatives' time zone, as the aware UTC datetime stored."""
    return datetime.combine(day, time(hour, minute), LOCAL).astimezone(ZoneInfo("UTC"))


# --- the hook ------------------------------------------------------------------------------------


@hookimpl
def crm_demo_data(session: Session, scale: int) -> None:
    rng = random.Random(SEED)
    first_vat = bg_vat(random.Random(SEED))
    if session.scalar(select(Client.id).where(Client.vat_number == first_vat)) is not None:
        return  # the demo data is there already
    reps = list(
        session.scalars(
            select(User).where(User.login.in_(DEMO_REPRESENTATIVES)).order_by(User.login)
        )
    )
    groups = list(session.scalars(select(CustomerGroup).order_by(CustomerGroup.id)))
    types = {t.code: t for t in session.scalars(select(ContactType))}
    tags = _tags(session)
    clients = [_client(rng, i, reps, groups, tags) for i in range(40 * max(scale, 1))]
    _place_in_regions(session, clients)
    session.add_all(clients)
    today = datetime.now(LOCAL).date()
    for client in clients:
        if client.responsible is not None and types:
            session.add_all(_history(rng, client, types, today))
    for rep in reps:
        mine = [c for c in clients if c.responsible is rep]
        if mine and types:
            session.add_all(_agenda(rng, rep, mine, types, today))
    session.flush()


def demo_regions(session: Session) -> dict[str, Region]:
    """The demo regions by name, created where missing."""
    existing = {r.name: r for r in session.scalars(select(Region))}
    for order, name in enumerate(REGIONS, start=1):
        if name not in existing:
            existing[name] = Region(name=name, order=order * 10)
            session.add(existing[name])
    return existing


def region_of_city(city: str) -> str:
    return next((name for name, cities in REGIONS.items() if city in cities), "Abroad")


def _place_in_regions(session: Session, clients: list[Client]) -> None:
    # From the head office's city, so that the random draws (and so every other demo value) stay
    # what they were before regions existed.
    regions = demo_regions(session)
    for client in clients:
        client.region = regions[region_of_city(client.addresses[0].city)]


def _tags(session: Session) -> list[Tag]:
    existing = {t.name: t for t in session.scalars(select(Tag).where(Tag.name.in_(TAGS)))}
    tags = [existing.get(name) or Tag(name=name) for name in TAGS]
    session.add_all(t for t in tags if t.name not in existing)
    return tags


def _client(
    rng: random.Random,
    index: int,
    reps: list[User],
    groups: list[CustomerGroup],
    tags: list[Tag],
) -> Client:
    vat = bg_vat(rng)  # the first one is the marker of existing demo data (see above)
    foreign = FOREIGN[index % len(FOREIGN)] if index % 10 == 9 else None
    individual = not foreign and index % 13 == 12
    base = company_name(rng)
    if individual:
        name = person_name(rng)
        legal_form, vat = "", ""
    else:
        legal_form = "GmbH" if foreign and foreign[0] == "DE" else (
            "SRL" if foreign else rng.choice(LEGAL_FORMS)
        )  # fmt: skip
        name = base
        if foreign:
            vat = foreign_vat(rng, foreign[5])
    if foreign:
        country, city, postal_code, prefix, digits, _ = foreign
        phone = prefix + str(rng.randint(2 * 10 ** (digits - 1), 10**digits - 1))
    else:
        country = "BG"
        city, postal_code, area = rng.choice(CITIES)
        phone = bg_landline(rng, area)
    domain = slug(name) + (".de" if country == "DE" else ".ro" if country == "RO" else ".bg")
    client = Client(
        kind="individual" if individual else "company",
        name=name,
        legal_name=f"{name} {legal_form}".strip(),
        registration_number=vat[2:] if country == "BG" else "",
        vat_number=vat,
        country=country,
        customer_group=rng.choice(groups) if groups else None,
        responsible=reps[index % len(reps)] if reps else None,
        status=rng.choices(("active", "prospect", "inactive"), (7, 2, 1))[0],
        tags=rng.sample(tags, rng.randint(0, 2)),
        website="" if individual else f"https://www.{domain}",
        notes="Prefers visits on Tuesday mornings." if index % 7 == 0 else "",
        payment_term_days=rng.choice((0, 15, 30, 30, 45, 60)),
        invoice_remarks=rng.choice(REMARKS),
        goods_description=rng.choice(GOODS),
        document_language="bg" if country == "BG" else "en",
    )
    street = f"{rng.choice(STREETS)} {rng.randint(1, 120)}"
    client.addresses = [
        Address(kind="head_office", street=street, city=city, postal_code=postal_code,
                country=country),
    ]  # fmt: skip
    if rng.random() < 0.6:
        delivery_city, delivery_code, _ = rng.choice(CITIES) if country == "BG" else (
            city, postal_code, ""
        )  # fmt: skip
        client.addresses.append(
            Address(kind="delivery", street=f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
                    city=delivery_city, postal_code=delivery_code, country=country)
        )  # fmt: skip
    client.phones = [Phone(kind="work", number=_e164(phone))]
    if not individual:
        client.emails = [
            Email(kind="work", address=f"office@{domain}"),
            Email(kind="invoices", address=f"accounting@{domain}"),
        ]
    for position_index in range(1 if individual else rng.randint(1, 4)):
        full_name = name if individual else person_name(rng)
        first, last = full_name.split(" ", 1)
        person = Person(
            name=full_name,
            position="" if individual else POSITIONS[(index + position_index) % len(POSITIONS)],
            department="" if individual else rng.choice(DEPARTMENTS),
            is_primary=position_index == 0,
        )
        mobile = bg_mobile(rng)
        person.phones = [Phone(kind="mobile", number=_e164(mobile), client=client)]
        person.emails = [
            Email(kind="work", address=f"{slug(first)}.{slug(last)}@{domain}", client=client)
        ]
        client.persons.append(person)
    if country == "BG" and not individual:
        number, bic, bank = bg_iban(rng)
        client.bank_accounts = [BankAccount(iban=number, bic=bic, bank_name=bank, is_default=True)]
    return client


def _e164(number: str) -> str:
    return "+" + "".join(c for c in number if c.isdigit())


def _contact(
    rng: random.Random,
    client: Client,
    user: User,
    kind: ContactType,
    starts_at: datetime,
    state: str,
) -> Contact:
    low, high = DURATIONS.get(kind.code, (15, 60))
    done = state == "done"
    return Contact(
        client=client,
        user=user,
        contact_type=kind,
        state=state,
        starts_at=starts_at,
        duration_minutes=rng.randint(low, high) if done else (60 if kind.code == "visit" else 15),
        subject=rng.choice(SUBJECTS.get(kind.code, ("Contact",))),
        notes="Talked through the open orders and the next delivery." if done else "",
        outcome=rng.choice(OUTCOMES) if done else "",
        persons=[rng.choice(client.persons)] if client.persons else [],
    )


def _history(
    rng: random.Random, client: Client, types: dict[str, ContactType], today: date
) -> list[Contact]:
    """A year of contacts by the client's representative, most recent last."""
    kinds = [types[c] for c in ("visit", "phone_call", "phone_call", "email", "meeting",
                                "video_call") if c in types]  # fmt: skip
    contacts = []
    for _ in range(rng.randint(3, 10)):
        day = today - timedelta(days=rng.randint(1, 365))
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        starts_at = local_time(day, rng.randint(9, 16), rng.choice((0, 15, 30, 45)))
        state = "cancelled" if rng.random() < 0.05 else "done"
        contact = _contact(rng, client, client.responsible, rng.choice(kinds), starts_at, state)
        if contact.outcome.startswith("Samples"):
            contact.follow_up_date = day + timedelta(days=7)
        contacts.append(contact)
    return contacts


def _agenda(
    rng: random.Random,
    rep: User,
    clients: list[Client],
    types: dict[str, ContactType],
    today: date,
) -> list[Contact]:
    """Today: three visits and two calls (Maria's morning in the journeys); then a few a day."""
    visit = types.get("visit") or next(iter(types.values()))
    call = types.get("phone_call") or visit
    plan: list[tuple[date, int, int, ContactType]] = [
        (today, 9, 30, visit), (today, 10, 45, call), (today, 11, 30, visit),
        (today, 14, 30, visit), (today, 16, 30, call),
    ]  # fmt: skip
    for offset in range(1, 8):
        day = today + timedelta(days=offset)
        if day.weekday() < 5:
            plan += [(day, 10, 0, visit), (day, 15, 0, call)]
    active = [c for c in clients if c.status != "inactive"] or clients
    return [
        _contact(rng, rng.choice(active), rep, kind, local_time(day, hour, minute), "scheduled")
        for day, hour, minute, kind in plan
    ]
