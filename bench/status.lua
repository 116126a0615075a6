-- wrk script: counts responses by status, and 503s without Retry-After or without the `overloaded` code,
-- so a benchmark can tell shed requests from failures (wrk itself only counts "non-2xx").
-- Printed by done() as lines `status <code> <count>` and `bad_503 <count>`.
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    statuses = {}
    bad_503 = 0
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    if status == 503 then
        local retry = headers["Retry-After"] or headers["retry-after"]
        if retry == nil or not string.find(body, '"overloaded"', 1, true) then
            bad_503 = bad_503 + 1
        end
    end
end

function done(summary, latency, requests)
    local totals, bad = {}, 0
    for _, thread in ipairs(threads) do
        for status, count in pairs(thread:get("statuses")) do
            totals[status] = (totals[status] or 0) + count
        end
        bad = bad + thread:get("bad_503")
    end
    for status, count in pairs(totals) do
        io.write(string.format("status %d %d\n", status, count))
    end
    io.write(string.format("bad_503 %d\n", bad))
end
