"""Communes and provinces given on the command line: an official code, or a name typed with or
without diacritics (asking which one when a name matches several communes)."""

from __future__ import annotations

import click

from core.places import commune_by_code, province_by_code, resolve_place


def resolve_commune(value: str) -> str:
    """A commune code from a code or a name typed with or without diacritics; asks which one
    when the name matches several."""
    value = value.strip()
    if value.isdigit():
        if commune_by_code(value.zfill(5)) is None:
            raise click.BadParameter(f"no commune has the code {value}")
        return value.zfill(5)
    candidates = resolve_place(value).communes
    if not candidates:
        raise click.BadParameter(f"no commune matches {value!r}; add the province or use the code")
    if len(candidates) == 1:
        return candidates[0].code
    for number, commune in enumerate(candidates, start=1):
        click.echo(f"  {number}. {commune.label} ({commune.code})")
    choice = click.prompt(
        f"{value!r} matches several communes; which one",
        type=click.IntRange(1, len(candidates)),
    )
    return candidates[choice - 1].code


def resolve_province(value: str) -> str:
    """A province code from a code ("1", "01") or a name typed with or without diacritics
    ("ha noi", "tp hcm", a former province such as "binh duong")."""
    value = value.strip()
    if value.isdigit():
        if province_by_code(value.zfill(2)) is None:
            raise click.BadParameter(f"no province has the code {value}")
        return value.zfill(2)
    province = resolve_place(value).province
    if province is None:
        raise click.BadParameter(f"no province matches {value!r}; use its 2-digit code")
    return province.code
