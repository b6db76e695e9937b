"""`cns staff`: add for a commune or a province by code or by a name without diacritics (with a
password prompt), list, change the password, remove."""

from __future__ import annotations

from click.testing import CliRunner, Result

from cns.main import cli
from core.db import session_scope
from core.passwords import verify_password
from core.repositories.staff import staff_by_username

PASSWORD = "mat-khau-rat-dai-1"
TWICE = f"{PASSWORD}\n{PASSWORD}\n"


def _invoke(*args: str, answer: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["staff", *args], input=answer)


def _run(*args: str, answer: str | None = None) -> str:
    result = _invoke(*args, answer=answer)
    assert result.exit_code == 0, result.output
    return result.output


def test_add_by_code_and_by_name_then_list_and_remove(app_database: str) -> None:
    out = _run("add", "--username", "Lan", "--name", "Chị Lan", "--commune", "00004", answer=TWICE)
    assert out.endswith("lan can sign in to /admin/reports for Phường Ba Đình, Hà Nội (00004).\n")
    out = _run(
        "add", "--username", "hung", "--name", "Anh Hùng", "--province", "ha noi", answer=TWICE
    )
    assert out.endswith("hung can sign in to /admin/reports for Thành phố Hà Nội (01).\n")
    _run("add", "--username", "mai", "--name", "Chị Mai", "--commune", "phuong ngoc ha",
         "--password", PASSWORD)  # fmt: skip
    with session_scope() as session:
        lan = staff_by_username(session=session, username="lan")
        assert lan is not None
        assert lan.commune_code == "00004"
        assert verify_password(PASSWORD, lan.password_hash)
        mai = staff_by_username(session=session, username="mai")
        assert mai is not None
        assert mai.commune_code == "00008"

    assert _run("list").splitlines() == [
        "hung\tAnh Hùng\tprovince 01\tThành phố Hà Nội",
        "lan\tChị Lan\tcommune 00004\tPhường Ba Đình, Hà Nội",
        "mai\tChị Mai\tcommune 00008\tPhường Ngọc Hà, Hà Nội",
    ]
    assert _run("remove", "LAN") == "Staff member LAN removed.\n"
    assert _run("remove", "hung") == "Staff member hung removed.\n"
    assert _run("remove", "mai") == "Staff member mai removed.\n"
    assert _run("list") == "No staff.\n"


def test_an_ambiguous_name_asks_which_commune(app_database: str) -> None:
    out = _run("add", "--username", "mai", "--name", "Mai", "--commune", "tan lap",
               answer=TWICE + "4\n")  # fmt: skip
    assert "Xã Tân Lập, Tây Ninh (25489)" in out
    assert out.endswith("mai can sign in to /admin/reports for Xã Tân Lập, Tây Ninh (25489).\n")


def test_mistakes_are_refused(app_database: str) -> None:
    both = _invoke("add", "--username", "a", "--name", "A", "--commune", "00004",
                   "--province", "01", "--password", PASSWORD)  # fmt: skip
    assert both.exit_code == 2
    assert "exactly one of --commune or --province" in both.output
    neither = _invoke("add", "--username", "a", "--name", "A", "--password", PASSWORD)
    assert neither.exit_code == 2
    unknown = _invoke("add", "--username", "a", "--name", "A", "--province", "77",
                      "--password", PASSWORD)  # fmt: skip
    assert unknown.exit_code == 2
    assert "no province has the code 77" in unknown.output
    short = _invoke("add", "--username", "a", "--name", "A", "--commune", "00004",
                    "--password", "ngan")  # fmt: skip
    assert short.exit_code == 2
    assert "at least 10 characters" in short.output
    mismatch = _invoke("add", "--username", "a", "--name", "A", "--commune", "00004",
                       answer=f"{PASSWORD}\nkhac-mat-khau-1\n")  # fmt: skip
    assert mismatch.exit_code == 1  # click asks again, then the input runs out
    assert "Error: The two entered values do not match." in mismatch.output

    _run("add", "--username", "a", "--name", "A", "--commune", "00004", "--password", PASSWORD)
    taken = _invoke("add", "--username", "A", "--name", "B", "--province", "01",
                    "--password", PASSWORD)  # fmt: skip
    assert taken.exit_code == 1
    assert "the username a is taken" in taken.output
    missing = _invoke("remove", "ai")
    assert missing.exit_code == 1
    assert "no staff member ai" in missing.output


def test_password_sets_a_new_hashed_password(app_database: str) -> None:
    _run("add", "--username", "lan", "--name", "Lan", "--commune", "00004", "--password", PASSWORD)
    out = _run("password", "lan", answer="mat-khau-moi-22\nmat-khau-moi-22\n")
    assert out.endswith("New password set for lan.\n")
    with session_scope() as session:
        lan = staff_by_username(session=session, username="lan")
        assert lan is not None
        assert verify_password("mat-khau-moi-22", lan.password_hash)
    assert _invoke("password", "lan", "--password", "ngan").exit_code == 2
    missing = _invoke("password", "ai", "--password", PASSWORD)
    assert missing.exit_code == 1
    assert "no staff member ai" in missing.output
