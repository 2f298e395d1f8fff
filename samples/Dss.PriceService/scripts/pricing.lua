-- The price rules of the price service (samples/Dss.PriceService). Loaded at start by every
-- state of the "pricing" pool; defines the global table `pricing`, whose functions the
-- endpoints call: GET /price -> pricing.price, GET /quote -> pricing.quote.

local format = string.format

-- Unit prices, in USD.
local prices = {
  apple = 0.50,
  pear = 0.75,
  plum = 0.30,
}

-- The amount before formatting: 10 or more of an item cost 10% less.
local function amount(unit, qty)
  return unit * qty * (qty >= 10 and 0.9 or 1)
end

pricing = {}

-- price(item, qty) -> "1.50", or nil, "item", message for an item with no price.
-- qty is an integer from 1 to 10000 (the endpoint checks it).
function pricing.price(item, qty)
  local unit = prices[item]
  if unit == nil then
    return nil, "item", format("unknown item '%s'", item)
  end
  return format("%.2f", amount(unit, qty))
end

-- quote(item, qty, currency) -> the price converted to `currency`, "%.2f", or nil, kind,
-- message. rates.lookup is a .NET function (async: this call's coroutine waits for it while
-- the state serves other calls); it returns the rate from USD, or nil for an unknown currency.
function pricing.quote(item, qty, currency)
  local unit = prices[item]
  if unit == nil then
    return nil, "item", format("unknown item '%s'", item)
  end
  local rate = rates.lookup(currency)
  if rate == nil then
    return nil, "currency", format("unknown currency '%s'", currency)
  end
  return format("%.2f", amount(unit, qty) * rate)
end
