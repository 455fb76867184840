"""Japanese prefectures in any common form → the prefecture, and the prefecture → a business region.

The default business regions follow how Japanese sales organisations split the country: 近畿 is the
2府4県 (大阪府 京都府 兵庫県 奈良県 和歌山県 滋賀県); 三重県 belongs to 中部 (東海) for sales
purposes, although the school-geography 近畿地方 includes it. Regions are configurable
(``region_map``).
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
    beginning 大阪府大阪市… all give 大阪府. Returns None when nothing matches."""
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
    for name in _NAMES_BY_LENGTH:
        if text.startswith(name):
            return BY_NAME[name]
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


def region_of(prefecture: str | None, region_map: Mapping[str, str] | None = None) -> str | None:
    """The business region of a prefecture (by its full name); ``region_map`` overrides defaults."""
    if prefecture is None:
        return None
    if region_map and prefecture in region_map:
        return region_map[prefecture]
    found = BY_NAME.get(prefecture)
    return found.region if found else None
