"""`cns volunteer`: add by code or by a name without diacritics (asking when ambiguous), list,
remove."""

from __future__ import annotations

from click.testing import CliRunner

from cns.main import cli
from core.db import session_scope
from core.repositories.volunteers import communes_of, list_volunteers


def _run(*args: str, answer: str | None = None) -> str:
    result = CliRunner().invoke(cli, ["volunteer", *args], input=answer)
    assert result.exit_code == 0, result.output
    return result.output


def test_add_by_code_and_by_name_then_list_and_remove(app_database: str) -> None:
    out = _run(
        "add", "--commune", "00004,xa tan lap tay ninh", "--name", "Lan", "--telegram-user", "11"
    )
    assert out == "Volunteer 1 (Lan, volunteer) serves 00004, 25489.\n"
    with session_scope() as session:
        (lan,) = list_volunteers(session=session)
        assert communes_of(session=session, volunteer_id=lan.id) == {"00004", "25489"}
        assert lan.telegram_user_id == 11

    _run("add", "--commune", "phuong ba dinh", "--name", "Hùng", "--role", "lead")
    listed = _run("list", "--commune", "00004").splitlines()
    assert listed == ["1\tLan\tvolunteer\t00004, 25489 telegram 11", "2\tHùng\tlead\t00004"]
    assert _run("list", "--commune", "25489").splitlines() == [listed[0]]

    assert _run("remove", "1") == "Volunteer 1 removed.\n"
    assert _run("list", "--commune", "25489") == "No volunteers.\n"


def test_an_ambiguous_name_asks_which_commune(app_database: str) -> None:
    out = _run("add", "--commune", "tan lap", "--name", "Mai", answer="4\n")
    assert "Xã Tân Lập, Tây Ninh (25489)" in out
    assert out.endswith("Volunteer 1 (Mai, volunteer) serves 25489.\n")


def test_unknown_commune_and_volunteer_are_refused(app_database: str) -> None:
    result = CliRunner().invoke(cli, ["volunteer", "add", "--commune", "99999", "--name", "X"])
    assert result.exit_code == 2
    assert "no commune has the code 99999" in result.output
    result = CliRunner().invoke(cli, ["volunteer", "remove", "42"])
    assert result.exit_code == 1
    assert "no volunteer 42" in result.output
