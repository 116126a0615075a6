// The gateway's endpoint written with Go's standard library only (net/http server and client,
// encoding/json), as the peer many teams would pick: GET /api/sun/{postal}/{country}[?date=] asks the
// location service, then the sun service (formatted=0), and answers the same JSON keys as
// cityscape-gateway. Upstreams from LOCATION_URL and SUN_URL; listens on 127.0.0.1:PORT.
// Built offline by bench/gateway.py with `go build` (no modules).
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

var (
	locationURL = env("LOCATION_URL", "http://127.0.0.1:8001")
	sunURL      = env("SUN_URL", "http://127.0.0.1:8002")
	// One keep-alive connection per concurrent call and upstream, like the Swift gateway's client.
	client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 100000}}
)

func env(key, fallback string) string {
	if value := os.Getenv(key); value != "" {
		return value
	}
	return fallback
}

func getJSON(address string, into any) (int, error) {
	response, err := client.Get(address)
	if err != nil {
		return 0, err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return response.StatusCode, nil
	}
	return response.StatusCode, json.NewDecoder(response.Body).Decode(into)
}

func fail(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q}}`, code)
}

func sun(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/sun/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		fail(w, http.StatusNotFound, "not_found")
		return
	}
	date := r.URL.Query().Get("date")
	if date == "" {
		date = time.Now().UTC().Format("2006-01-02")
	}
	var place map[string]any
	status, err := getJSON(locationURL+"/api/location/"+url.PathEscape(parts[0])+"/"+url.PathEscape(parts[1]), &place)
	if status == http.StatusNotFound {
		fail(w, http.StatusNotFound, "postal_code_not_found")
		return
	} else if err != nil || status != http.StatusOK {
		fail(w, http.StatusBadGateway, "upstream_error")
		return
	}
	var times struct {
		Results map[string]any `json:"results"`
	}
	query := url.Values{"lat": {fmt.Sprintf("%.6f", place["latitude"])}, "lng": {fmt.Sprintf("%.6f", place["longitude"])},
		"date": {date}, "formatted": {"0"}}
	if status, err = getJSON(sunURL+"/json?"+query.Encode(), &times); err != nil || status != http.StatusOK {
		fail(w, http.StatusBadGateway, "upstream_error")
		return
	}
	answer := times.Results // encoding/json writes map keys sorted, as the Swift gateway does.
	for _, key := range []string{"postal_code", "country", "place", "latitude", "longitude"} {
		answer[key] = place[key]
	}
	answer["date"] = date
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(answer)
}

func main() {
	http.HandleFunc("/api/sun/", sun)
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"status":"ok"}`) })
	server := &http.Server{Addr: "127.0.0.1:" + env("PORT", "0"), ReadHeaderTimeout: 10 * time.Second}
	if err := server.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
