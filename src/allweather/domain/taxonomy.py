"""The event taxonomy of DESIGN.md: MOFCOM category, national event class, fine type, severity.

Each is a separate field on an event. The fine type is a closed list; every fine type has a
default MOFCOM category and national event class, so a connector only has to pick the fine type.

Sources: MOFCOM 《对外投资合作境外安全风险预警和信息通报制度》 (2010) for the five categories —
terrorism, kidnapping and crime are 政治风险, epidemics are 自然风险; 《突发事件应对法》
Art. 2–3 for
the four event classes and four severity grades (DOMAIN-CN.md §1.1, §3.1).
"""

from __future__ import annotations

from enum import StrEnum

from allweather.domain.labels import Label


class MofcomCategory(StrEnum):
    """境外安全风险种类 — the five MOFCOM risk categories."""

    POLITICAL = "political"
    ECONOMIC = "economic"
    POLICY = "policy"
    NATURAL = "natural"
    OTHER = "other"

    @property
    def label(self) -> Label:
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS = {
    MofcomCategory.POLITICAL: Label("政治风险", "Political"),
    MofcomCategory.ECONOMIC: Label("经济风险", "Economic"),
    MofcomCategory.POLICY: Label("政策风险", "Policy"),
    MofcomCategory.NATURAL: Label("自然风险", "Natural"),
    MofcomCategory.OTHER: Label("其他风险", "Other"),
}


class EventClass(StrEnum):
    """突发事件类别 — the four national event classes (《突发事件应对法》 Art. 2)."""

    NATURAL_DISASTER = "natural_disaster"
    ACCIDENT = "accident"
    PUBLIC_HEALTH = "public_health"
    SOCIAL_SAFETY = "social_safety"

    @property
    def label(self) -> Label:
        return _EVENT_CLASS_LABELS[self]


_EVENT_CLASS_LABELS = {
    EventClass.NATURAL_DISASTER: Label("自然灾害", "Natural disaster"),
    EventClass.ACCIDENT: Label("事故灾难", "Accident disaster"),
    EventClass.PUBLIC_HEALTH: Label("公共卫生事件", "Public health event"),
    EventClass.SOCIAL_SAFETY: Label("社会安全事件", "Social safety event"),
}


class FineType(StrEnum):
    """The closed list of fine event types that every source's own codes map onto."""

    # 自然风险 · 自然灾害
    EARTHQUAKE = "earthquake"
    TSUNAMI = "tsunami"
    VOLCANO = "volcano"
    FLOOD = "flood"
    TROPICAL_CYCLONE = "tropical_cyclone"
    SEVERE_STORM = "severe_storm"
    DROUGHT = "drought"
    WILDFIRE = "wildfire"
    LANDSLIDE = "landslide"
    EXTREME_TEMPERATURE = "extreme_temperature"
    # 自然风险 · 公共卫生事件
    EPIDEMIC_OUTBREAK = "epidemic_outbreak"
    # 政治风险 · 社会安全事件
    ARMED_CLASH = "armed_clash"
    BATTLE = "battle"
    EXPLOSION_REMOTE_VIOLENCE = "explosion_remote_violence"
    VIOLENCE_AGAINST_CIVILIANS = "violence_against_civilians"
    PROTEST = "protest"
    RIOT = "riot"
    STRIKE = "strike"
    COUP = "coup"
    ELECTION_CRISIS = "election_crisis"
    KIDNAPPING = "kidnapping"
    TERRORIST_ATTACK = "terrorist_attack"
    CRIME_WAVE = "crime_wave"
    ETHNIC_RELIGIOUS_CONFLICT = "ethnic_religious_conflict"
    # 经济风险
    CURRENCY_CRISIS = "currency_crisis"
    FINANCIAL_TURMOIL = "financial_turmoil"
    SOVEREIGN_DEBT_CRISIS = "sovereign_debt_crisis"
    INFLATION_SURGE = "inflation_surge"
    # 政策风险
    REGULATION_CHANGE = "regulation_change"
    EXPROPRIATION = "expropriation"
    SANCTIONS_LISTING = "sanctions_listing"
    DEBARMENT = "debarment"
    # 其他风险 · 事故灾难
    INDUSTRIAL_ACCIDENT = "industrial_accident"
    TRANSPORT_ACCIDENT = "transport_accident"
    OTHER = "other"

    @property
    def label(self) -> Label:
        return _FINE_TYPES[self][0]

    @property
    def category(self) -> MofcomCategory:
        """The MOFCOM category this type files under by default."""
        return _FINE_TYPES[self][1]

    @property
    def event_class(self) -> EventClass:
        """The national event class this type belongs to by default."""
        return _FINE_TYPES[self][2]


_N, _P, _E, _Y, _O = (
    MofcomCategory.NATURAL,
    MofcomCategory.POLITICAL,
    MofcomCategory.ECONOMIC,
    MofcomCategory.POLICY,
    MofcomCategory.OTHER,
)
_ND, _AC, _PH, _SS = (
    EventClass.NATURAL_DISASTER,
    EventClass.ACCIDENT,
    EventClass.PUBLIC_HEALTH,
    EventClass.SOCIAL_SAFETY,
)

# Economic and policy events have no national class of their own; the SASAC emergency rules
# (国资委令第31号) file 经济安全 and 涉外突发事件 under 社会安全事件, and so do we.
_FINE_TYPES: dict[FineType, tuple[Label, MofcomCategory, EventClass]] = {
    FineType.EARTHQUAKE: (Label("地震", "Earthquake"), _N, _ND),
    FineType.TSUNAMI: (Label("海啸", "Tsunami"), _N, _ND),
    FineType.VOLCANO: (Label("火山喷发", "Volcanic eruption"), _N, _ND),
    FineType.FLOOD: (Label("洪水", "Flood"), _N, _ND),
    FineType.TROPICAL_CYCLONE: (Label("热带气旋", "Tropical cyclone"), _N, _ND),
    FineType.SEVERE_STORM: (Label("强对流风暴", "Severe storm"), _N, _ND),
    FineType.DROUGHT: (Label("干旱", "Drought"), _N, _ND),
    FineType.WILDFIRE: (Label("森林草原火灾", "Wildfire"), _N, _ND),
    FineType.LANDSLIDE: (Label("滑坡泥石流", "Landslide / debris flow"), _N, _ND),
    FineType.EXTREME_TEMPERATURE: (Label("极端气温", "Extreme temperature"), _N, _ND),
    FineType.EPIDEMIC_OUTBREAK: (Label("传染病疫情", "Epidemic outbreak"), _N, _PH),
    FineType.ARMED_CLASH: (Label("武装冲突", "Armed clash"), _P, _SS),
    FineType.BATTLE: (Label("交战", "Battle"), _P, _SS),
    FineType.EXPLOSION_REMOTE_VIOLENCE: (
        Label("爆炸/远程暴力", "Explosion / remote violence"),
        _P,
        _SS,
    ),
    FineType.VIOLENCE_AGAINST_CIVILIANS: (
        Label("针对平民的暴力", "Violence against civilians"),
        _P,
        _SS,
    ),
    FineType.PROTEST: (Label("抗议示威", "Protest"), _P, _SS),
    FineType.RIOT: (Label("骚乱", "Riot"), _P, _SS),
    FineType.STRIKE: (Label("罢工", "Strike"), _P, _SS),
    FineType.COUP: (Label("政变", "Coup"), _P, _SS),
    FineType.ELECTION_CRISIS: (Label("选举危机", "Election crisis"), _P, _SS),
    FineType.KIDNAPPING: (Label("绑架", "Kidnapping"), _P, _SS),
    FineType.TERRORIST_ATTACK: (Label("恐怖袭击", "Terrorist attack"), _P, _SS),
    FineType.CRIME_WAVE: (Label("治安犯罪", "Crime wave"), _P, _SS),
    FineType.ETHNIC_RELIGIOUS_CONFLICT: (
        Label("民族宗教冲突", "Ethnic / religious conflict"),
        _P,
        _SS,
    ),
    FineType.CURRENCY_CRISIS: (Label("货币危机", "Currency crisis"), _E, _SS),
    FineType.FINANCIAL_TURMOIL: (Label("金融市场动荡", "Financial market turmoil"), _E, _SS),
    FineType.SOVEREIGN_DEBT_CRISIS: (Label("主权债务危机", "Sovereign debt crisis"), _E, _SS),
    FineType.INFLATION_SURGE: (Label("通货膨胀", "Inflation surge"), _E, _SS),
    FineType.REGULATION_CHANGE: (Label("政策法规调整", "Regulation change"), _Y, _SS),
    FineType.EXPROPRIATION: (Label("国有化征收", "Expropriation"), _Y, _SS),
    FineType.SANCTIONS_LISTING: (Label("制裁名单", "Sanctions listing"), _Y, _SS),
    FineType.DEBARMENT: (Label("多边开发银行取消资格", "Debarment"), _Y, _SS),
    FineType.INDUSTRIAL_ACCIDENT: (Label("生产安全事故", "Industrial accident"), _O, _AC),
    FineType.TRANSPORT_ACCIDENT: (Label("交通事故", "Transport accident"), _O, _AC),
    FineType.OTHER: (Label("其他", "Other"), _O, _SS),
}


class SeverityGrade(StrEnum):
    """事件分级 — severity grade of an event, Ⅰ (most severe) to Ⅳ (《突发事件应对法》 Art. 3).

    Not to be confused with the warning level (预警级别) or the response level (响应级别):
    the three are separate fields.
    """

    I = "I"  # noqa: E741 — the grade's own name
    II = "II"
    III = "III"
    IV = "IV"

    @property
    def label(self) -> Label:
        return _GRADE_LABELS[self]

    @property
    def numeral(self) -> str:
        """The Roman numeral as Chinese documents print it (Ⅰ Ⅱ Ⅲ Ⅳ)."""
        return _GRADE_NUMERALS[self]

    @property
    def rank(self) -> int:
        """1 for Ⅰ (most severe) … 4 for Ⅳ; lower is worse."""
        return _GRADE_ORDER.index(self) + 1

    def is_more_severe_than(self, other: SeverityGrade) -> bool:
        return self.rank < other.rank


_GRADE_ORDER = [SeverityGrade.I, SeverityGrade.II, SeverityGrade.III, SeverityGrade.IV]
_GRADE_NUMERALS = {
    SeverityGrade.I: "Ⅰ",
    SeverityGrade.II: "Ⅱ",
    SeverityGrade.III: "Ⅲ",
    SeverityGrade.IV: "Ⅳ",
}
_GRADE_LABELS = {
    SeverityGrade.I: Label("特别重大", "Extraordinarily serious"),
    SeverityGrade.II: Label("重大", "Serious"),
    SeverityGrade.III: Label("较大", "Relatively serious"),
    SeverityGrade.IV: Label("一般", "Ordinary"),
}
