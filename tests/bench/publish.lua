-- wrk script for the POST /publish throughput figure (tests/bench/run-benchmarks.sh):
-- "update" heartbeats cycling over 1,000 distinct peers with libp2p-looking IDs, the way a
-- network of 1,000 Goop2 peers keeps the server busy.
--
--   wrk -t2 -c32 -d8s -s tests/bench/publish.lua http://127.0.0.1:PORT/publish
--
-- The requests are formatted once in init(): building them per request would measure Lua,
-- not the server. No response() callback either, so wrk does not parse bodies (it still
-- counts non-2xx answers).

local peerCount = 1000
local requests = {}
local nextIndex = 1

-- Every thread gets its own Lua state; setup() numbers them so that they start at
-- different peers instead of publishing the same one in lockstep.
local threadCount = 0
function setup(thread)
    thread:set("threadIndex", threadCount)
    threadCount = threadCount + 1
end

local function peerId(random)
    local alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    local chars = {}
    for i = 1, 44 do
        local k = random(1, #alphabet)
        chars[i] = alphabet:sub(k, k)
    end
    return "12D3KooW" .. table.concat(chars)
end

function init(args)
    -- The same seed in every thread: every thread publishes the same 1,000 peers.
    math.randomseed(20240605)
    local headers = { ["Content-Type"] = "application/json" }
    local ts = os.time() * 1000
    for i = 1, peerCount do
        local body = string.format(
            '{"type":"update","peerId":"%s","content":"node-%d","ts":%d}',
            peerId(math.random), i, ts)
        requests[i] = wrk.format("POST", "/publish", headers, body)
    end
    nextIndex = ((threadIndex or 0) * 500) % peerCount + 1
end

function request()
    local r = requests[nextIndex]
    nextIndex = nextIndex % peerCount + 1
    return r
end
