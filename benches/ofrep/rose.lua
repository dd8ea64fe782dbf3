-- wrk: OFREP bulk evaluation, a different user on every request.
local user = 0
request = function()
  user = user + 1
  local body = '{"context":{"targetingKey":"user-' .. user .. '"}}'
  return wrk.format("POST", "/ofrep/v1/evaluate/flags", {["Content-Type"] = "application/json"}, body)
end
