"""The gateway's endpoint as a small Quart app (ASGI) on Hypercorn, with aiohttp as its HTTP client
(httpx's pool collapses under this load). Same contract as cityscape-gateway's GET /api/sun/{postal}/{country}.
Upstreams from LOCATION_URL and SUN_URL; one aiohttp session with an unbounded keep-alive pool.
"""
import os

import aiohttp
from quart import Quart, jsonify, request

LOCATION_URL = os.environ.get("LOCATION_URL", "http://127.0.0.1:8001")
SUN_URL = os.environ.get("SUN_URL", "http://127.0.0.1:8002")
app = Quart(__name__)


@app.before_serving
async def open_client():
    app.client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                       timeout=aiohttp.ClientTimeout(total=5))


@app.after_serving
async def close_client():
    await app.client.close()


@app.get("/healthz")
async def healthz():
    return jsonify(status="ok")


@app.get("/api/sun/<postal_code>/<country>")
async def sun(postal_code, country):
    date = request.args.get("date", "today")
    async with app.client.get(f"{LOCATION_URL}/api/location/{postal_code}/{country}") as location:
        if location.status == 404:
            return jsonify(error={"code": "postal_code_not_found"}), 404
        if location.status != 200:
            return jsonify(error={"code": "upstream_error", "upstream": "location"}), 502
        place = await location.json()
    params = {"lat": str(place["latitude"]), "lng": str(place["longitude"]), "date": date, "formatted": "0"}
    async with app.client.get(f"{SUN_URL}/json", params=params) as answer:
        if answer.status != 200:
            return jsonify(error={"code": "upstream_error", "upstream": "sun"}), 502
        results = (await answer.json())["results"]
    return jsonify(postal_code=place["postal_code"], country=place["country"], place=place["place"],
                   latitude=place["latitude"], longitude=place["longitude"], date=date, **results)
