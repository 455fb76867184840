"""Japanese prefectures in any common form → the prefecture, and the prefecture → a business region.

The default business regions follow how Japanese sales organisations split the country: 近畿 is the
2府4県 (大阪府 京都府 兵庫県 奈良県 和歌山県 滋賀県); 三重県 belongs to 中部 (東海) for sales
purposes, although the school-geography 近畿地方 includes it. Regions are configurable
(``region_map``).

A full address gives its prefecture too (``prefecture_in_address``): a Japanese address begins with
it, after an optional postal code (〒464-0084 愛知県名古屋市…). Where the prefecture is left out
because the city implies it, the city says which: a designated city
(政令指定都市: 大阪市, 横浜市 …), a capital that shares its prefecture's name (静岡市, 岡山市 …),
or a Tokyo special ward written first (千代田区丸の内…). Any other city alone names no prefecture
(府中市 is in Tokyo and in Hiroshima), and neither does the postal code: the address is kept, its
prefecture left empty.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Prefecture:
    code: int
    name: str  # 大阪府
    short: str  # 大阪
    romaji: str  # osaka
    region: str  # default business region


_TABLE = [
    (1, "北海道", "hokkaido", "北海道"),
    (2, "青森県", "aomori", "東北"),
    (3, "岩手県", "iwate", "東北"),
    (4, "宮城県", "miyagi", "東北"),
    (5, "秋田県", "akita", "東北"),
    (6, "山形県", "yamagata", "東北"),
    (7, "福島県", "fukushima", "東北"),
    (8, "茨城県", "ibaraki", "関東"),
    (9, "栃木県", "tochigi", "関東"),
    (10, "群馬県", "gunma", "関東"),
    (11, "埼玉県", "saitama", "関東"),
    (12, "千葉県", "chiba", "関東"),
    (13, "東京都", "tokyo", "関東"),
    (14, "神奈川県", "kanagawa", "関東"),
    (15, "新潟県", "niigata", "中部"),
    (16, "富山県", "toyama", "中部"),
    (17, "石川県", "ishikawa", "中部"),
    (18, "福井県", "fukui", "中部"),
    (19, "山梨県", "yamanashi", "中部"),
    (20, "長野県", "nagano", "中部"),
    (21, "岐阜県", "gifu", "中部"),
    (22, "静岡県", "shizuoka", "中部"),
    (23, "愛知県", "aichi", "中部"),
    (24, "三重県", "mie", "中部"),
    (25, "滋賀県", "shiga", "近畿"),
    (26, "京都府", "kyoto", "近畿"),
    (27, "大阪府", "osaka", "近畿"),
    (28, "兵庫県", "hyogo", "近畿"),
    (29, "奈良県", "nara", "近畿"),
    (30, "和歌山県", "wakayama", "近畿"),
    (31, "鳥取県", "tottori", "中国"),
    (32, "島根県", "shimane", "中国"),
    (33, "岡山県", "okayama", "中国"),
    (34, "広島県", "hiroshima", "中国"),
    (35, "山口県", "yamaguchi", "中国"),
    (36, "徳島県", "tokushima", "四国"),
    (37, "香川県", "kagawa", "四国"),
    (38, "愛媛県", "ehime", "四国"),
    (39, "高知県", "kochi", "四国"),
    (40, "福岡県", "fukuoka", "九州"),
    (41, "佐賀県", "saga", "九州"),
    (42, "長崎県", "nagasaki", "九州"),
    (43, "熊本県", "kumamoto", "九州"),
    (44, "大分県", "oita", "九州"),
    (45, "宮崎県", "miyazaki", "九州"),
    (46, "鹿児島県", "kagoshima", "九州"),
    (47, "沖縄県", "okinawa", "九州"),
]

PREFECTURES: tuple[Prefecture, ...] = tuple(
    Prefecture(code, name, name if name == "北海道" else name[:-1], romaji, region)
    for code, name, romaji, region in _TABLE
)
BY_NAME: dict[str, Prefecture] = {p.name: p for p in PREFECTURES}
KINKI = frozenset({"大阪府", "京都府", "兵庫県", "奈良県", "和歌山県", "滋賀県"})

_ROMAJI_SUFFIX_RE = re.compile(r"[\s\-]*(prefecture|pref\.?|metropolis|ken|fu|to|do)$")


def _fold_romaji(text: str) -> str:
    """ō→o, 'ou'/'oo'→'o', 'uu'→'u', so Hyōgo, hyougo and Hyogo are one."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = re.sub(r"[^a-z]", "", plain)
    return plain.replace("ou", "o").replace("oo", "o").replace("uu", "u")


def _build_aliases() -> dict[str, Prefecture]:
    aliases: dict[str, Prefecture] = {}
    for p in PREFECTURES:
        aliases[p.name] = p
        aliases[p.short] = p
        aliases[str(p.code)] = p
        aliases[f"{p.code:02d}"] = p
        aliases[f"jp-{p.code:02d}"] = p
        aliases[_fold_romaji(p.romaji)] = p
    return aliases


_ALIASES = _build_aliases()
# Full names, longest first, to read the prefecture off the start of an address.
_NAMES_BY_LENGTH = sorted(BY_NAME, key=len, reverse=True)


def find_prefecture(value: object) -> Prefecture | None:
    """大阪府, 大阪, Osaka, Ōsaka-fu, OSAKA PREFECTURE, 27, '27', JP-27, ２７, or an address
    (〒530-0001 大阪府大阪市…, 大阪市北区…; see ``prefecture_in_address``) all give 大阪府.
    Returns None when nothing matches."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    lowered = text.lower()
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    if lowered.isdigit() and lowered.lstrip("0") in _ALIASES:
        return _ALIASES[lowered.lstrip("0")]
    return _romaji(lowered) or prefecture_in_address(text)


def _romaji(lowered: str) -> Prefecture | None:
    latin = "".join(
        c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c)
    )
    if latin.isascii():
        # "kyoto" and "hokkaido" end like a suffix: try the whole word before stripping one.
        for candidate in (latin, _ROMAJI_SUFFIX_RE.sub("", latin)):
            folded = _fold_romaji(candidate)
            if folded in _ALIASES:
                return _ALIASES[folded]
    return None


#: 政令指定都市 and the prefecture each is in.
DESIGNATED_CITIES = {
    "札幌市": "北海道",
    "仙台市": "宮城県",
    "さいたま市": "埼玉県",
    "千葉市": "千葉県",
    "横浜市": "神奈川県",
    "川崎市": "神奈川県",
    "相模原市": "神奈川県",
    "新潟市": "新潟県",
    "静岡市": "静岡県",
    "浜松市": "静岡県",
    "名古屋市": "愛知県",
    "京都市": "京都府",
    "大阪市": "大阪府",
    "堺市": "大阪府",
    "神戸市": "兵庫県",
    "岡山市": "岡山県",
    "広島市": "広島県",
    "北九州市": "福岡県",
    "福岡市": "福岡県",
    "熊本市": "熊本県",
}
#: Tokyo's special wards whose names no ward of another city has (中央区, 港区 and 北区 are also in
#: 大阪市, 名古屋市 …, so they name no prefecture without their city).
TOKYO_WARDS = (
    "千代田区 新宿区 文京区 台東区 墨田区 江東区 品川区 目黒区 大田区 世田谷区 渋谷区 "
    "中野区 杉並区 豊島区 荒川区 板橋区 練馬区 足立区 葛飾区 江戸川区"
).split()
_CAPITAL_SHORT_NAMES = (
    "青森 秋田 山形 福島 千葉 新潟 富山 福井 長野 岐阜 静岡 京都 大阪 奈良 "
    "和歌山 鳥取 岡山 広島 山口 徳島 高知 福岡 佐賀 長崎 熊本 大分 宮崎 鹿児島"
).split()
#: Capitals named like their prefecture (青森市 …): 28 of them, and no other city has these names.
CAPITALS = {f"{p.short}市": p.name for p in PREFECTURES if p.short in _CAPITAL_SHORT_NAMES}
_CITIES = {**CAPITALS, **DESIGNATED_CITIES, **{ward: "東京都" for ward in TOKYO_WARDS}}
_CITIES_BY_LENGTH = sorted(_CITIES, key=len, reverse=True)
# What may stand before the prefecture: 日本, a postal code (〒 and 3+4 digits, any dash).
_ADDRESS_LEAD_RE = re.compile(
    r"^(?:日本国?[\s,、]*)?(?:(?:〒|郵便番号[:：]?)?\s*\d{3}\s*[-‐‑–—−ー]?\s*\d{4}(?!\d))?[\s,、]*"
)
_POSTAL_RE = re.compile(r"(?<!\d)\d{3}-?\d{4}(?!\d)")


def prefecture_in_address(value: str) -> Prefecture | None:
    """The prefecture of a full address: Japanese (〒464-0084 愛知県名古屋市千種区…,
    東京都千代田区…, 大阪市北区…, full-width or not), or in Latin letters with the prefecture
    among its last parts (1-1 Umeda, Kita-ku, Osaka 530-0001, Japan). None when the address names
    none."""
    text = unicodedata.normalize("NFKC", value).strip()
    rest = _ADDRESS_LEAD_RE.sub("", text, count=1)
    for name in _NAMES_BY_LENGTH:
        if rest.startswith(name):
            return BY_NAME[name]
    for city in _CITIES_BY_LENGTH:
        if rest.startswith(city):
            return BY_NAME[_CITIES[city]]
    if text.isascii() and "," in text:
        for part in reversed(text.split(",")):
            word = _POSTAL_RE.sub("", part).strip().lower()
            if word and word not in ("japan", "jp"):
                found = _ALIASES.get(word) or _romaji(word)
                if found is not None:
                    return found
    return None


def region_of(prefecture: str | None, region_map: Mapping[str, str] | None = None) -> str | None:
    """The business region of a prefecture (by its full name); ``region_map`` overrides defaults."""
    if prefecture is None:
        return None
    if region_map and prefecture in region_map:
        return region_map[prefecture]
    found = BY_NAME.get(prefecture)
    return found.region if found else None
