"""Communes and provinces since 1 July 2025, and resolving them from residents' text (real data)."""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections.abc import Iterator
from importlib.resources import as_file, files

import pytest

from core.places import (
    KINDS,
    commune_by_code,
    communes,
    province_by_code,
    provinces,
    resolve_place,
)

# Every code below was looked up in the package's SQLite file; test_expected_codes_are_real
# checks them against it again, independently of core.places.
EXPECTED: dict[str, tuple[str, str]] = {
    "00004": ("Phường Ba Đình", "Hà Nội"),
    "00199": ("Phường Láng", "Hà Nội"),
    "00226": ("Phường Văn Miếu - Quốc Tử Giám", "Hà Nội"),
    "00376": ("Xã Sóc Sơn", "Hà Nội"),
    "01654": ("Xã Hòa An", "Cao Bằng"),
    "01777": ("Xã Thành Công", "Cao Bằng"),
    "02143": ("Xã Văn Lang", "Thái Nguyên"),
    "02353": ("Xã Hòa An", "Tuyên Quang"),
    "02380": ("Xã Bạch Xa", "Tuyên Quang"),
    "02647": ("Phường Lào Cai", "Lào Cai"),
    "04252": ("Phường Yên Bái", "Lào Cai"),
    "05665": ("Xã Văn Lăng", "Thái Nguyên"),
    "05881": ("Xã Thành Công", "Thái Nguyên"),
    "05983": ("Phường Lương Văn Tri", "Lạng Sơn"),
    "06688": ("Phường Hạ Long", "Quảng Ninh"),
    "07210": ("Phường Bắc Giang", "Bắc Ninh"),
    "09187": ("Phường Kinh Bắc", "Bắc Ninh"),
    "14329": ("Phường Hoa Lư", "Ninh Bình"),
    "16171": ("Xã Ba Đình", "Thanh Hóa"),
    "19462": ("Xã Tân Lập", "Quảng Trị"),
    "19742": ("Đặc khu Cồn Cỏ", "Quảng Trị"),
    "20242": ("Phường Hải Châu", "Đà Nẵng"),
    "21499": ("Xã Ba Dinh", "Quảng Ngãi"),
    "21622": ("Xã An Toàn", "Gia Lai"),
    "23134": ("Xã Tân Lập", "Lâm Đồng"),
    "24121": ("Phường Tân Lập", "Đắk Lắk"),
    "24184": ("Xã Ea H'Leo", "Đắk Lắk"),
    "24823": ("Phường 1 Bảo Lộc", "Lâm Đồng"),
    "25489": ("Xã Tân Lập", "Tây Ninh"),
    "25942": ("Phường Dĩ An", "Hồ Chí Minh"),
    "26116": ("Xã Tân Phú", "Đồng Nai"),
    "26743": ("Phường Bến Thành", "Hồ Chí Minh"),
    "26824": ("Phường Thủ Đức", "Hồ Chí Minh"),
    "27226": ("Phường Phú Thọ", "Hồ Chí Minh"),
    "27553": ("Xã Củ Chi", "Hồ Chí Minh"),
    "28261": ("Phường Mỹ Tho", "Đồng Tháp"),
    "30076": ("Xã Mỹ Thọ", "Đồng Tháp"),
    "31078": ("Đặc khu Phú Quốc", "An Giang"),
    "31153": ("Phường Ô Môn", "Cần Thơ"),
    "31393": ("Xã Hòa An", "Cần Thơ"),
    "31891": ("Xã Hòa Bình", "Cà Mau"),
}
TAN_LAP_XA = {"19462", "23134", "25489"}  # plus Phường Tân Lập (24121) in Đắk Lắk

# text, the commune codes expected (in order), the province code expected (or None)
RESOLVED: list[tuple[str, tuple[str, ...], str | None]] = [
    # the brief's examples
    ("xa tan lap tay ninh", ("25489",), "80"),
    ("phường Ba Đình", ("00004",), None),
    ("tôi ở xã Hòa An, tỉnh Cao Bằng nhé", ("01654",), "04"),
    ("p ba dinh hn", ("00004",), "01"),
    ("toi o phuong ben thanh tphcm", ("26743",), "79"),
    ("Đặc khu Phú Quốc", ("31078",), None),
    # residents' phrasing, from the NLU training data and beyond
    ("phường Ba Đình, Hà Nội", ("00004",), "01"),
    ("P.Bến Thành, TP.HCM", ("26743",), "79"),
    ("em ở phường Bến Thành, TP Hồ Chí Minh ạ", ("26743",), "79"),
    ("fường bến thành sài gòn", ("26743",), "79"),
    ("nha toi o phuong hai chau da nang", ("20242",), "48"),
    ("mik ở p. Kinh Bắc, Bắc Ninh", ("09187",), "24"),
    ("t ở xã Sóc Sơn HN", ("00376",), "01"),
    ("ở phường Hạ Long, QNinh", ("06688",), "22"),
    ("phường Hoa Lư, NB", ("14329",), "37"),
    ("chỗ mik là phuờng Lương Văn Tri, lạng sơn", ("05983",), "20"),
    ("xa cu chi tphcm", ("27553",), "79"),
    ("Phường Văn Miếu - Quốc Tử Giám, Hà Nội", ("00226",), "01"),
    ("văn miếu hà nội", ("00226",), "01"),
    ("xa ea h leo dak lak", ("24184",), "66"),
    ("Ea H'Leo", ("24184",), None),
    ("phường 1 bảo lộc", ("24823",), None),
    ("tôi ở thủ đức", ("26824",), None),
    ("00004", ("00004",), None),
    ("mã xã 31078", ("31078",), None),
    # former provinces still name their new one
    ("phường Dĩ An, Bình Dương", ("25942",), "79"),
    ("Yên Bái, Lào Cai", ("04252",), "15"),
    # a province name is a commune only with a type word, or when another province follows
    ("phường Lào Cai", ("02647",), None),
    ("Lào Cai, Lào Cai", ("02647",), "15"),
    ("bắc giang, bắc ninh", ("07210",), "24"),
    ("phu tho hcm", ("27226",), "79"),
    ("xa hoa binh ca mau", ("31891",), "96"),
    ("bach xa tuyen quang", ("02380",), "08"),
    # a name that runs into the province's name: Tân Phú in Đồng Nai, not Tân Phú Đông
    ("xa tan phu, dong nai", ("26116",), "75"),
    # one mistyped word, with the province named
    ("p ba dihn ha noi", ("00004",), "01"),
    ("xa tan lapp tay ninh", ("25489",), "80"),
    ("phuong ben than tphcm", ("26743",), "79"),
    ("Tân Lạp, Tây Ninh", ("25489",), "80"),
    # names that are everyday words need a type word or the province
    ("xã Thành Công", ("01777", "05881"), None),
    ("Thành Công, Cao Bằng", ("01777",), "04"),
    ("xa an toan", ("21622",), None),
    ("phường Láng", ("00199",), None),
    ("láng, hà nội", ("00199",), "01"),
    # ... or, for lookalikes, the name's own diacritics
    ("Cồn Cỏ", ("19742",), None),
    ("tôi ở Ô Môn", ("31153",), None),
]


@pytest.fixture(scope="module")
def dataset() -> Iterator[sqlite3.Connection]:
    with as_file(files("vietnamadminunits") / "data" / "dataset.db") as path:
        connection = sqlite3.connect(path)
        yield connection
        connection.close()


def codes(text: str, **kwargs: int) -> tuple[str, ...]:
    return tuple(c.code for c in resolve_place(text, **kwargs).communes)


def province_code(text: str) -> str | None:
    province = resolve_place(text).province
    return province.code if province else None


def test_counts_and_codes() -> None:
    all_communes, all_provinces = communes(), provinces()
    assert len(all_communes) == 3321
    assert len(all_provinces) == 34
    assert len({c.code for c in all_communes}) == 3321
    assert len({p.code for p in all_provinces}) == 34
    assert all(re.fullmatch(r"\d{5}", c.code) for c in all_communes)
    assert all(re.fullmatch(r"\d{2}", p.code) for p in all_provinces)
    assert {c.province for c in all_communes} == set(all_provinces)
    assert {c.kind for c in all_communes} == set(KINDS)
    assert all(c.name == f"{c.kind} {c.short}" for c in all_communes)


def test_ba_dinh() -> None:
    ba_dinh = commune_by_code("00004")
    assert ba_dinh is not None
    assert (ba_dinh.name, ba_dinh.short, ba_dinh.kind) == ("Phường Ba Đình", "Ba Đình", "Phường")
    assert ba_dinh.province == province_by_code("01")
    assert (ba_dinh.province.name, ba_dinh.province.short) == ("Thành phố Hà Nội", "Hà Nội")
    assert ba_dinh.label == "Phường Ba Đình, Hà Nội"


@pytest.mark.parametrize(
    ("code", "kind"),
    [("10543", "Phường"), ("11848", "Xã"), ("31213", "Phường"), ("31299", "Xã")],
)
def test_kind_follows_the_name_where_the_dataset_contradicts_itself(code: str, kind: str) -> None:
    commune = commune_by_code(code)
    assert commune is not None
    assert commune.kind == kind
    assert commune.name.startswith(kind)


def test_expected_codes_are_real(dataset: sqlite3.Connection) -> None:
    for code, (name, province) in EXPECTED.items():
        rows = dataset.execute(
            "SELECT wardCode FROM admin_units WHERE ward = ? AND provinceShort = ?",
            (name, province),
        ).fetchall()
        assert rows == [(code,)], (name, province)
        commune = commune_by_code(code)
        assert commune is not None
        assert (commune.name, commune.province.short) == (name, province)


@pytest.mark.parametrize(("text", "expected", "province"), RESOLVED)
def test_resolve_place(text: str, expected: tuple[str, ...], province: str | None) -> None:
    match = resolve_place(text)
    assert tuple(c.code for c in match.communes) == expected
    assert (match.province.code if match.province else None) == province
    assert match.unique == (match.communes[0] if len(expected) == 1 else None)


@pytest.mark.parametrize("text", ["xã tân lập", "xa tan lap", "Xã Tân Lập", "tôi ở xã Tân Lập"])
def test_same_name_in_several_provinces_is_ambiguous(text: str) -> None:
    match = resolve_place(text)
    assert {c.code for c in match.communes} == TAN_LAP_XA
    assert all(c.short == "Tân Lập" and c.kind == "Xã" for c in match.communes)
    assert len({c.province for c in match.communes}) == len(match.communes)
    assert match.unique is None
    assert match.province is None


def test_a_province_narrows_the_ambiguity_down() -> None:
    assert codes("tân lập") == ("24121", "23134", "19462", "25489")  # ties by label
    assert codes("xã tân lập, lâm đồng") == ("23134",)
    assert codes("phường tân lập") == ("24121",)


@pytest.mark.parametrize(
    ("accented", "plain"),
    [
        ("xã Tân Lập, Tây Ninh", "xa tan lap tay ninh"),
        ("phường Ba Đình", "phuong ba dinh"),
        ("Tôi ở xã Hòa An, tỉnh Cao Bằng nhé", "toi o xa hoa an, tinh cao bang nhe"),
        ("Đặc khu Phú Quốc", "dac khu phu quoc"),
        ("phường Bến Thành, TP.HCM", "phuong ben thanh tp.hcm"),
        ("xã Tân Lập", "xa tan lap"),
        ("Tây Ninh", "tay ninh"),
        ("phường Đồng Xuân, Hà Nội", "phuong dong xuan ha noi"),
        ("tôi muốn làm căn cước", "toi muon lam can cuoc"),
    ],
)
def test_accents_and_no_accents_agree(accented: str, plain: str) -> None:
    assert resolve_place(accented) == resolve_place(plain)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mỹ thọ, đồng tháp", ("30076",)),
        ("Mỹ Tho, Đồng Tháp", ("28261",)),
        ("my tho dong thap", ("28261", "30076")),
        ("xã Văn Lăng, Thái Nguyên", ("05665",)),
        ("Xã Văn Lang, Thái Nguyên", ("02143",)),
        ("xa van lang thai nguyen", ("02143", "05665")),  # ties by label, then code
        ("xã Ba Đình", ("16171",)),
        ("xa ba dinh", ("21499", "16171")),
        ("ba dinh", ("00004", "21499", "16171")),
    ],
)
def test_the_name_typed_with_its_diacritics_wins(text: str, expected: tuple[str, ...]) -> None:
    assert codes(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "tôi muốn làm căn cước",
        "cảm ơn",
        "cam on ad nhieu",
        "",
        "   ",
        "?!",
        "thành công",
        "an toàn",
        "là gì",
        "la gi",
        "gia đình",
        "con co",
        "đăng ký thành công rồi",
        "dạy tôi cách đặt mật khẩu an toàn",
        "đóng tiền điện trên Cổng dịch vụ công quốc gia",
        "ban co phai robot khong",
        "về xã đăng ký kết hôn được không",
        "ubnd xa co lam sao y khong",
        "nhà tôi ở xa lắm",
        "tôi ở trung tâm",
        "Láng",
        "25 tuổi",
        "chị Huệ nhờ tôi hỏi",
        "HD giúp mình với",
    ],
)
def test_nonsense_names_no_commune(text: str) -> None:
    match = resolve_place(text)
    assert match.communes == ()
    assert match.province is None


@pytest.mark.parametrize(
    ("text", "province"),
    [
        ("tay ninh", "80"),
        ("Tây Ninh", "80"),
        ("tôi ở tỉnh Tây Ninh", "80"),
        ("lào cai", "15"),
        ("tỉnh Lào Cai", "15"),
        ("tp hcm", "79"),
        ("tphcm", "79"),
        ("Sài Gòn", "79"),
        ("hn", "01"),
        ("hanoi", "01"),
        ("thành phố Huế", "46"),
        ("Huế", "46"),
        ("Bình Dương", "79"),
        ("hòa bình", "25"),
        ("Đắc Lắc", "66"),
        ("01", "01"),
        ("mã tỉnh 80", "80"),
        ("xa tan lap ha noi", "01"),  # no Xã Tân Lập in Hà Nội
        ("xã Ba Đình, Hà Nội", "01"),  # Ba Đình in Hà Nội is a phường
    ],
)
def test_province_only(text: str, province: str) -> None:
    match = resolve_place(text)
    assert match.communes == ()
    assert match.province == province_by_code(province)


def test_limit() -> None:
    assert len(codes("đà lạt")) == 5
    assert codes("đà lạt", limit=2) == codes("đà lạt")[:2]
    assert len(codes("tân lập", limit=1)) == 1


def test_commune_by_code_round_trips() -> None:
    for commune in communes():
        assert commune_by_code(commune.code) is commune
    for province in provinces():
        assert province_by_code(province.code) is province
    assert commune_by_code("99999") is None
    assert commune_by_code("") is None
    assert province_by_code("00") is None


def test_label_finds_the_commune() -> None:
    sample = random.Random(20250701).sample(communes(), 200)
    for commune in sample:
        match = resolve_place(commune.label)
        assert commune in match.communes, commune.label
        assert match.province == commune.province
    unique = sum(resolve_place(c.label).unique == c for c in sample)
    assert unique >= 198


def _varied_inputs(n: int) -> list[str]:
    rng = random.Random(7)
    texts: list[str] = []
    for commune in rng.sample(communes(), n):
        form = rng.randrange(5)
        if form == 0:
            texts.append(commune.label)
        elif form == 1:
            texts.append(f"toi o {commune.name.lower()} {commune.province.short.lower()} nhe")
        elif form == 2:
            texts.append(commune.short)
        elif form == 3:
            texts.append(f"{commune.kind.lower()} {commune.short}")
        else:
            texts.append(rng.choice(["cảm ơn", "tôi muốn làm căn cước", "bị lỗi rồi ad ơi"]))
    return texts


def test_resolve_is_fast() -> None:
    texts = _varied_inputs(1000)
    resolve_place("warm up")
    start = time.perf_counter()
    for text in texts:
        resolve_place(text)
    average = (time.perf_counter() - start) / len(texts)
    assert average < 0.005  # measured about 0.2 ms
