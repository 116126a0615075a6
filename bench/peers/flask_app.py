"""The gateway's endpoint as a small Flask app (WSGI): run threaded under gunicorn (-k gthread).

Same contract as cityscape-gateway's GET /api/sun/{postal}/{country}: location, then sun, one JSON answer.
Upstreams from LOCATION_URL and SUN_URL; one keep-alive requests.Session per thread.
"""
import os
import threading

import requests
from flask import Flask, jsonify, request

LOCATION_URL = os.environ.get("LOCATION_URL", "http://127.0.0.1:8001")
SUN_URL = os.environ.get("SUN_URL", "http://127.0.0.1:8002")
app = Flask(__name__)
local = threading.local()


def session():
    if not hasattr(local, "session"):
        local.session = requests.Session()
    return local.session


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")


@app.get("/api/sun/<postal_code>/<country>")
def sun(postal_code, country):
    date = request.args.get("date", "today")
    location = session().get(f"{LOCATION_URL}/api/location/{postal_code}/{country}", timeout=5)
    if location.status_code == 404:
        return jsonify(error={"code": "postal_code_not_found"}), 404
    if location.status_code != 200:
        return jsonify(error={"code": "upstream_error", "upstream": "location"}), 502
    place = location.json()
    answer = session().get(f"{SUN_URL}/json", params={"lat": place["latitude"], "lng": place["longitude"],
                                                      "date": date, "formatted": 0}, timeout=5)
    if answer.status_code != 200:
        return jsonify(error={"code": "upstream_error", "upstream": "sun"}), 502
    return jsonify(postal_code=place["postal_code"], country=place["country"], place=place["place"],
                   latitude=place["latitude"], longitude=place["longitude"], date=date, **answer.json()["results"])
