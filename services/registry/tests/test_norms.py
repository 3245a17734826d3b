"""Sector norms are picked by sector, product, capacity band and the date of the period judged."""

from __future__ import annotations

import httpx
import pytest
from registry_helpers import Actors

from cleanprod_registry.sectors.bands import parse_band


async def lookup(client: httpx.AsyncClient, actors: Actors, **params: object) -> httpx.Response:
    return await client.get("/api/v1/norms/lookup", params=params, headers=actors.officer)


async def test_beer_mid_band_in_2023(client: httpx.AsyncClient, actors: Actors) -> None:
    response = await lookup(
        client, actors, sector="beer", product="beer", capacity_band="20–100 million L/yr", on="2023-06-30"
    )
    assert response.status_code == 200
    norm = response.json()
    assert norm["value"] == 196 and norm["unit"] == "MJ/hl" and norm["circular"] == "19/2016/TT-BCT"


async def test_band_chosen_by_capacity_value(client: httpx.AsyncClient, actors: Actors) -> None:
    assert (await lookup(client, actors, sector="beer", product="beer", capacity=50, on="2023-06-30")).json()[
        "value"
    ] == 196
    assert (await lookup(client, actors, sector="beer", product="beer", capacity=10, on="2023-06-30")).json()[
        "value"
    ] == 286
    assert (await lookup(client, actors, sector="beer", product="beer", capacity=150, on="2019-01-01")).json()[
        "value"
    ] == 140


async def test_electric_arc_furnace_billet_2019(client: httpx.AsyncClient, actors: Actors) -> None:
    response = await lookup(client, actors, sector="steel", product="billet electric arc furnace", on="2019-05-01")
    assert response.status_code == 200
    assert response.json()["value"] == 2600 and response.json()["unit"] == "MJ/tonne"


async def test_date_outside_every_period_is_a_clear_404(client: httpx.AsyncClient, actors: Actors) -> None:
    response = await lookup(client, actors, sector="steel", product="billet electric arc furnace", on="2027-03-01")
    assert response.status_code == 404
    problem = response.json()
    assert problem["type"].endswith("norm-not-found") and "2027-03-01" in problem["detail"]


async def test_ambiguous_band_asks_for_capacity(client: httpx.AsyncClient, actors: Actors) -> None:
    response = await lookup(client, actors, sector="beer", product="beer", on="2023-06-30")
    assert response.status_code == 422


async def test_seeded_norms_keep_their_sources(client: httpx.AsyncClient, actors: Actors) -> None:
    page = (
        await client.get("/api/v1/norms", params={"sector": "seafood", "limit": 200}, headers=actors.auditor)
    ).json()
    assert {n["product"] for n in page["items"]} == {
        "catfish (pangasius) products - fish-equivalent",
        "shrimp products - shrimp-equivalent",
    }
    assert all(n["source_url"] for n in page["items"])


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("<20 million L/yr", [0, 19.99], [20, 100]),
        ("20-100 million L/yr", [20, 100, 55], [19.9, 100.1]),
        (">100 million L/yr", [100.5], [100]),
        (">=300 t product/yr", [300, 1000], [299]),
        (">50000 t/yr (integrated)", [50001], [50000]),
    ],
)
def test_band_parsing(text: str, inside: list[float], outside: list[float]) -> None:
    band = parse_band(text)
    assert all(band.contains(v) for v in inside)
    assert not any(band.contains(v) for v in outside)


def test_unparseable_band_is_refused() -> None:
    with pytest.raises(ValueError, match="not understood"):
        parse_band("about twenty")
