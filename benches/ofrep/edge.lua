-- wrk: Unleash Edge's frontend API, a different user on every request.
local user = 0
request = function()
  user = user + 1
  return wrk.format("GET", "/api/frontend?userId=user-" .. user,
    {["Authorization"] = "default:development.front"})
end
