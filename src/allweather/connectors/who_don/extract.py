"""Reading a DON's text: its situation part, disease, countries, stated deaths and PHEIC status.

Everything here is a pure function of text plus the mapping tables beside this module
(diseases.csv, countries.csv), so the rules can be read, tested and measured on their own.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser

from allweather.connectors.mapping import load_mapping
from allweather.domain.taxonomy import SeverityGrade
from allweather.domain.vocabulary import normalize_term
from allweather.reference.countries import UnknownCountryError, country_catalog

PACKAGE = __package__ or "allweather.connectors.who_don"
LEAD_CHARS = 700  # the opening of the situation text searched for disease and countries

# Lines of page furniture in the recorded texts, not part of the report.
_FURNITURE = re.compile(
    r"^(see all dons related to this event|disease outbreak news|disease outbreak reported|"
    r"situation at a glance|outbreak at a glance|description of the situation|situation update:?|"
    r"map timeline|enlarge image|corrigendum|weekly update|disease update|read more about.*|"
    r"\d{1,2} \w+ \d{4}( disease outbreak reported)?)$",
    re.IGNORECASE,
)
# Section headings after which a DON turns to background, response and advice.
_BACKGROUND = re.compile(
    r"^(epidemiology( of [\w -]+)?|disease background|background|public health response|"
    r"health sector response|who response|who risk assessment|risk assessment|"
    r"current risk assessment|who advice|who recommendations|further information|"
    r"for more information.*|references|related links|about this disease outbreak news|"
    r"about [\w-]+)$",
    re.IGNORECASE,
)
_READ_MORE = re.compile(r"^read more about\s+(.+)$", re.IGNORECASE)
_DATE_PREFIX = re.compile(r"^\d{1,2} \w+ \d{4}\s*[-–—:]\s*")


@dataclass(frozen=True)
class Disease:
    key: str
    name: str
    icd10: str
    grade: SeverityGrade
    fallback: bool = False


@dataclass(frozen=True)
class Places:
    """Country mentions (ISO alpha-2, in reading order, repeats kept) and any region named."""

    mentions: tuple[str, ...] = ()
    regional: bool = False

    @property
    def codes(self) -> tuple[str, ...]:
        """Distinct countries in order of first mention."""
        return tuple(dict.fromkeys(self.mentions))

    @property
    def country(self) -> str | None:
        """The DON's one country; None when it names none, several, or a region."""
        codes = self.codes
        return codes[0] if len(codes) == 1 and not self.regional else None

    @property
    def found(self) -> bool:
        return bool(self.mentions) or self.regional


@dataclass(frozen=True)
class Sections:
    """A DON as text: the situation part (what happened) and everything (for PHEIC mentions)."""

    situation: str
    full: str
    topic: str | None = None  # the "Read more about …" link text of recent DONs

    @property
    def lead(self) -> str:
        return self.situation[:LEAD_CHARS]


# ----------------------------------------------------------------------------- text


class _TextParser(HTMLParser):
    """HTML to text: block elements become line breaks, scripts and styles are dropped."""

    _BLOCKS = frozenset({"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(markup: str) -> str:
    """Plain text of an HTML fragment (the API's fields), one block per line."""
    if "<" not in markup and "&" not in markup:
        return markup
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def squash(text: str) -> str:
    return " ".join(text.split())


def sections(text: str) -> Sections:
    """Split a DON's text into its situation part and the rest (by its headings)."""
    situation: list[str] = []
    full: list[str] = []
    topic = None
    in_situation = True
    for raw in text.splitlines():
        line = squash(raw)
        if not line:
            continue
        if _FURNITURE.match(line):
            more = _READ_MORE.match(line)
            if more and topic is None:
                topic = more.group(1)
            continue
        full.append(line)
        if _BACKGROUND.match(line):
            in_situation = False
        elif in_situation:
            situation.append(_DATE_PREFIX.sub("", line) if not situation else line)
    whole = " ".join(full)
    return Sections(" ".join(situation) or whole, whole, topic)


def fold(text: str) -> str:
    """Lower case without accents, curly apostrophes straightened (for name lookups)."""
    text = text.replace("’", "'").replace("‘", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    return normalize_term("".join(c for c in decomposed if not unicodedata.combining(c)))


# ----------------------------------------------------------------------------- diseases


@lru_cache(maxsize=1)
def _diseases() -> tuple[tuple[Disease, re.Pattern[str], re.Pattern[str]], ...]:
    """Rows of diseases.csv with their pattern for lower-cased text, and a case-blind copy."""
    table = load_mapping(PACKAGE, "diseases.csv")
    return tuple(
        (
            Disease(
                key,
                row["name"],
                row["icd10"],
                SeverityGrade(row["grade"]),
                row["fallback"] == "yes",
            ),
            re.compile(row["pattern"]),
            re.compile(row["pattern"], re.IGNORECASE),
        )
        for key, row in table.rows.items()
    )


def disease_by_key(key: str) -> Disease:
    for disease, _, _ in _diseases():
        if disease.key == key:
            return disease
    raise KeyError(key)


@lru_cache(maxsize=64)
def disease_spans(text: str) -> tuple[tuple[int, int, int, Disease], ...]:
    """Every disease mention: (start, -length, row, disease), in reading order."""
    lower = text.lower()
    same_length = len(lower) == len(text)  # lower() can lengthen a few characters (İ)
    spans = [
        (match.start(), match.start() - match.end(), row, disease)
        for row, (disease, pattern, blind) in enumerate(_diseases())
        for match in (pattern.finditer(lower) if same_length else blind.finditer(text))
    ]
    spans.sort(key=lambda span: span[:3])
    return tuple(spans)


def find_disease(text: str | None) -> Disease | None:
    """The disease named first in ``text`` (longest, then first-listed, at one position).

    A fallback row ("influenza", "hepatitis", "unknown cause"…) is chosen only when no specific
    disease is named: "Turkey's national influenza centre confirmed H5N1" is avian influenza.
    """
    if not text:
        return None
    spans = disease_spans(text)
    for span in spans:
        if not span[3].fallback:
            return span[3]
    return spans[0][3] if spans else None


# ----------------------------------------------------------------------------- countries

_TOKEN = re.compile(r"[^\W\d_](?:[\w'’-]|\.(?=\w))*|[(),]")
_CONNECTORS = frozenset({"of", "the", "and", "da", "de", "du", "del", "la", "et", "(", ")", ","})
_MAX_TOKENS = 8
# Countries named as a team's origin or as where samples were tested, not where the outbreak is:
# "Médecins sans Frontières (Spain)", "MSF-France", "… confirmed by the Institut Pasteur in
# Dakar, Senegal" (to the end of that sentence).
_NOT_A_PLACE = re.compile(
    r"(?i:m[ée]decins sans fronti[èe]res|\bmsf\b)"
    r"(?:\s*\((?:\s*(?i:msf)\s*[-–]?)?\s*[\w ]+\)|\s*[-–]\s*\w+|\s+[A-Z]\w+)"
    r"|(?i:collaborating cent(?:re|er)s?|institut pasteur|pasteur institute|"
    r"institute (?:for|of) virology|national institute for communicable|"
    r"centers for disease control|\bcdc\b|reference laborator|"
    r"samples (?:were |have been )?(?:sent|shipped|referred))[^.]*"
)


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    """countries.csv: folded name → ISO alpha-2, or "" for a region."""
    table = load_mapping(PACKAGE, "countries.csv")
    return {fold(name): row["iso2"] for name, row in table.rows.items()}


@lru_cache(maxsize=8192)
def place_code(name: str) -> str | None:
    """ISO alpha-2 for a place name, "" for a region, None when it names neither.

    WHO forms and abbreviations come from countries.csv; the rest from the country catalog,
    which is asked only for names of four letters or more (so "in", "to", "no" stay words).
    """
    key = fold(name.strip(" ,"))
    if not key:
        return None
    if key in _aliases():
        return _aliases()[key]
    if len(key) < 4:
        return None
    catalog = country_catalog()
    for candidate in (name.replace("’", "'"), key):
        try:
            return catalog.resolve(candidate).iso2
        except UnknownCountryError:
            continue
    return None


def _join(tokens: list[str]) -> str:
    return " ".join(tokens).replace("( ", "(").replace(" )", ")").replace(" ,", ",")


def find_places(text: str, *, prose: bool = True) -> Places:
    """Countries and regions named in ``text``, longest name first at each position.

    ``prose``: running text, where a name starts with a capital letter and regions are ignored
    (texts mention regions as context); otherwise a title or a link slug, where any case goes
    and a region makes the DON regional. Disease names are blanked first, so "Sudan virus
    disease" or "Crimean-Congo haemorrhagic fever" name no country.
    """
    spans = [(start, start - negative) for start, negative, _, _ in disease_spans(text)]
    spans += [match.span() for match in _NOT_A_PLACE.finditer(text)]
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    tokens = [match.group() for match in _TOKEN.finditer(text)]
    mentions: list[str] = []
    regional = False
    i = 0
    while i < len(tokens):
        first = tokens[i]
        if first in _CONNECTORS or (prose and not first[0].isupper()):
            i += 1
            continue
        span_end = i + 1
        while span_end < min(len(tokens), i + _MAX_TOKENS):
            token = tokens[span_end]
            if prose and not (
                token[0].isupper() or token.lower() in _CONNECTORS or token[:2] in ("d'", "d’")
            ):
                break
            span_end += 1
        for end in range(span_end, i, -1):
            if tokens[end - 1] in _CONNECTORS and tokens[end - 1] != ")":
                continue  # a name does not end with "of", "and", "(" or a comma
            code = place_code(_join(tokens[i:end]))
            if code is not None:
                if code:
                    mentions.append(code)
                elif not prose:
                    regional = True
                i = end
                break
        else:
            i += 1
    return Places(tuple(mentions), regional)


# ----------------------------------------------------------------------------- titles, slugs

_TITLE_SPLIT = re.compile(r"\s+[-–—]\s+|\s*[–—]\s*")
_SLUG_NOISE = re.compile(
    r"\b(\d+|en|don\d*|dons|disease outbreak news|update|january|february|march|april|may|june|"
    r"july|august|september|october|november|december)\b",
    re.IGNORECASE,
)


def split_title(title: str) -> tuple[str, str | None]:
    """'Cholera – Haiti' → ('Cholera', 'Haiti'); a title without a dash has no place part."""
    parts = _TITLE_SPLIT.split(title.strip())
    if len(parts) < 2:
        return title.strip(), None
    return " – ".join(parts[:-1]).strip(), parts[-1].strip()


def slug_text(slug: str) -> str:
    """A link slug as words: '06-june-2019-polio-cameroon-en' → 'polio cameroon'."""
    words = re.sub(r"[-_/]+", " ", slug)
    return squash(_SLUG_NOISE.sub(" ", words))


# ----------------------------------------------------------------------------- severity signals

_DEATH_WORD = re.compile(r"\b(?:deaths|fatalities|fatal cases|died)\b")
_COUNT_BEFORE = {
    # "<n> [up to two qualifiers] deaths": 245 deaths, 75 associated deaths, 5 new deaths.
    False: re.compile(
        r"(?<![\d.,])(?<!\d )(\d{1,3}(?:[ ,]\d{3}){1,2}|\d+)\s+"
        r"(?:(?:new|additional|associated|related|confirmed|probable|suspected|reported|total|"
        r"cumulative|community|[a-z]+-(?:related|associated)|[a-z-]+ (?:related|associated))\s+)"
        r"{0,2}$"
    ),
    # "<n> [people…] died": 12 people have died, 2136 cases died.
    True: re.compile(
        r"(?<![\d.,])(?<!\d )(\d{1,3}(?:[ ,]\d{3}){1,2}|\d+)\s+"
        r"(?:(?:people|persons|patients|cases|children|of them|of whom|have|has)\s+){0,2}$"
    ),
}
# A closed period, "between October 2010 and February 2019", "from 2003 to 2019": its end year.
_PERIOD_END = re.compile(
    r"\b(?:between|from)\s+[^.;]{0,25}?(?:19|20)\d\d\s+(?:and|to|through|until)\s+"
    r"(?:\d{1,2}\s+)?(?:[a-z]+\s+)?((?:19|20)\d\d)\b"
)
# A sentence about the disease in general, not this event.
_BACKGROUND_FIGURE = re.compile(
    r"annually|each year|per year|every year|a year\b|worldwide|globally|world-wide|estimated",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Deaths:
    count: int
    phrase: str


def _sentence(text: str, start: int, end: int) -> str:
    left = text.rfind(". ", 0, start)
    right = text.find(". ", end)
    return text[left + 1 if left >= 0 else 0 : right if right >= 0 else len(text)]


def _old_period(sentence: str, year: int | None) -> bool:
    """A sentence about a period that ended before the DON's year (history, past epidemics)."""
    if year is None:
        return False
    return any(int(end) < year for end in _PERIOD_END.findall(sentence))


def stated_deaths(situation: str, year: int | None = None) -> Deaths | None:
    """The largest death count stated in the situation text, with its phrase.

    Reads "<n> [up to two qualifiers] deaths|fatalities|fatal cases" and "<n> [people…] died",
    with digits (spaces or commas as thousands separators). Skipped: figures in a sentence about
    the disease in general (annually, worldwide, globally, estimated…) or about a period that
    ended before the DON's ``year`` ("between October 2010 and February 2019" in 2022), numbers
    written as words, and tables (runs of numbers). Open periods ("since 1 August 2018") are
    the event's own toll and count.
    """
    best: Deaths | None = None
    lower = situation.lower()
    for word in _DEATH_WORD.finditer(lower):
        window = lower[max(0, word.start() - 60) : word.start()]
        match = _COUNT_BEFORE[word.group() == "died"].search(window)
        if match is None:
            continue
        start = word.start() - len(window) + match.start()
        if re.search(r"(?:[\d.,]|\d )$", lower[max(0, start - 2) : start]):
            continue  # the window cut a longer number, or a table row
        sentence = _sentence(lower, start, word.end())
        if _BACKGROUND_FIGURE.search(sentence) or _old_period(sentence, year):
            continue
        count = int(re.sub(r"[ ,]", "", match.group(1)))
        if best is None or count > best.count:
            best = Deaths(count, situation[start : word.end()])
    return best


_PHEIC = re.compile(r"public health emergency of international concern|\bPHEIC\b", re.IGNORECASE)
_PHEIC_DENIED = re.compile(
    r"\bnot\b|n't\b|\bwhether\b|\bno longer\b|\bconditions for\b|\bcriteria for\b|\bif\b|"
    r"\bwould\b|\bcould\b|\bmay\b",
    re.IGNORECASE,
)
_PHEIC_THIS = re.compile(
    r"\bdeclared\b|\bdeclaration of\b|\bconstitutes?\b|\bconstituted\b|\bposed\b|\bto be a\b|"
    r"\bdetermined that\b",
    re.IGNORECASE,
)
_PHEIC_ENDED = re.compile(
    r"\blift(?:ed|ing)\b|\bend(?:ed|ing)?\b|\bterminat|\bexpir", re.IGNORECASE
)
# A standing emergency cited as context: the polio PHEIC (since 2014) in every polio DON.
_PHEIC_STANDING = re.compile(
    r"\bremains?\b|\bunder the\b|\bdue to the declared\b|\bcontinues to be\b|"
    r"spread of (?:wild |vaccine-derived )?polio",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Pheic:
    signal: str  # "pheic" (this event) or "pheic_ongoing" (a standing emergency)
    phrase: str


def pheic_status(full: str) -> Pheic | None:
    """Whether the DON states that its event is a PHEIC (see severity.csv).

    Looks at the words around each mention in the same sentence. A DON that reports a PHEIC as
    lifted, ended or expired anywhere has none (its other mentions are history). Otherwise a
    negation or a hypothesis (not, whether, no longer, conditions for, if…) voids a mention;
    "remains", "under the", "spread of poliovirus" make it a standing emergency cited as
    context; "declared", "constitutes", "posed" this event's PHEIC.
    """
    found: Pheic | None = None
    for match in _PHEIC.finditer(full):
        left = full.rfind(". ", 0, match.start())
        before = full[max(left + 1, match.start() - 120) : match.start()]
        right = full.find(". ", match.end())
        after = full[match.end() : min(right if right >= 0 else len(full), match.end() + 80)]
        if _PHEIC_ENDED.search(before) or _PHEIC_ENDED.search(after):
            return None
        if _PHEIC_DENIED.search(before):
            continue
        phrase = squash(before + match.group(0))
        if _PHEIC_STANDING.search(before):
            found = found if found and found.signal == "pheic" else Pheic("pheic_ongoing", phrase)
        elif _PHEIC_THIS.search(before) and (found is None or found.signal != "pheic"):
            found = Pheic("pheic", phrase)
    return found
