"""`cns volunteer`: add by code or by a name without diacritics (asking when ambiguous), list,
remove, invite, web login; `cns desk link`."""

from __future__ import annotations

from click.testing import CliRunner

from cns.main import cli
from core.db import session_scope
from core.passwords import verify_password
from core.repositories.desk import linked_chat
from core.repositories.invites import redeem_invite
from core.repositories.volunteers import communes_of, list_volunteers, volunteer_by_username


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


def test_invite_prints_a_one_time_code_that_registers(app_database: str) -> None:
    out = _run("invite", "--commune", "00004", "--role", "lead").splitlines()
    assert out[0].startswith("/dangky ")
    assert "One use, valid 7 days, for 00004 (lead)." in out[1]
    code = out[0].split()[1]
    with session_scope() as session:
        volunteer = redeem_invite(
            session=session, code=code, telegram_user_id=77, display_name="Chị Lan"
        )
        assert volunteer is not None
        assert volunteer.role == "lead"


def test_login_sets_a_hashed_web_password(app_database: str) -> None:
    _run("add", "--commune", "00004", "--name", "Lan")
    out = _run("login", "1", "--username", "Lan", answer="mat-khau-dai-1\nmat-khau-dai-1\n")
    assert out.endswith("Volunteer 1 can sign in to /desk as lan.\n")
    with session_scope() as session:
        lan = volunteer_by_username(session=session, username="lan")
        assert lan is not None
        assert verify_password("mat-khau-dai-1", lan.password_hash)
    short = CliRunner().invoke(
        cli, ["volunteer", "login", "1", "--username", "lan", "--password", "ngan"]
    )
    assert short.exit_code == 2
    assert "at least 10 characters" in short.output


def test_desk_link_routes_communes_to_a_group(app_database: str) -> None:
    result = CliRunner().invoke(
        cli, ["desk", "link", "--chat", "-1001234", "--commune", "00004,phuong ba dinh"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == "Handoffs of 00004 now go to chat -1001234.\n"
    with session_scope() as session:
        assert linked_chat(session=session, commune_code="00004") == -1001234
    listed = CliRunner().invoke(cli, ["desk", "links"])
    assert listed.output == "-1001234\t00004\n"
