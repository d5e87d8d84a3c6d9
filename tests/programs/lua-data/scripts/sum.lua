-- sum.lua: run by tests/programs/rust-lua inside a rumprun unikernel. Reads the
-- baked data files with Lua's own io library (C stdio underneath), computes
-- statistics and word counts, writes a summary to /tmp and returns a table of
-- results for the Rust side to check.
local datadir = ... or "/data"

local nums = {}
local sum = 0
for line in io.lines(datadir .. "/numbers.txt") do
  if line ~= "" and line:sub(1, 1) ~= "#" then
    local n = math.tointeger(tonumber(line))
    assert(n, "not an integer: " .. line)
    nums[#nums + 1] = n
    sum = sum + n
  end
end
table.sort(nums)
local count = #nums
local median = (nums[count // 2] + nums[count // 2 + 1]) / 2

local f = assert(io.open(datadir .. "/words.txt", "r"))
local text = f:read("a")
f:close()
local counts, total, distinct = {}, 0, 0
for w in text:lower():gmatch("%a+") do
  total = total + 1
  if not counts[w] then
    distinct = distinct + 1
    counts[w] = 0
  end
  counts[w] = counts[w] + 1
end
local words = {}
for w, c in pairs(counts) do
  words[#words + 1] = { word = w, count = c }
end
table.sort(words, function(a, b)
  if a.count ~= b.count then
    return a.count > b.count
  end
  return a.word < b.word
end)
local top = {}
for i = 1, 5 do
  top[i] = words[i].word .. "=" .. words[i].count
end

local summary = string.format("count=%d sum=%d min=%d max=%d median=%.1f", count, sum, nums[1], nums[count], median)
local out = assert(io.open("/tmp/lua-summary.txt", "w"))
out:write(summary, "\n", "top=", table.concat(top, ","), "\n")
out:close()

print("lua: " .. summary)
print("lua: words=" .. total .. " distinct=" .. distinct .. " top=" .. table.concat(top, ","))

return {
  count = count,
  sum = sum,
  min = nums[1],
  max = nums[count],
  median = median,
  words = total,
  distinct = distinct,
  top = table.concat(top, ","),
  version = _VERSION,
}
