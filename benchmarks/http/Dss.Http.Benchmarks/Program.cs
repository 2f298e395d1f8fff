using System.Globalization;
using DarkSideSync.Http.Benchmarks;
using DarkSideSync.PriceService;

// The price service with two more endpoints of the same contract, for benchmarks/http/run.sh.
var locked = new LockedPricing(Path.Combine(AppContext.BaseDirectory, "scripts", "pricing.lua"));
var app = PriceServiceApp.Build(args);

// The ceiling: the same checks and the same arithmetic in C#, no Lua.
var units = new Dictionary<string, double>(StringComparer.Ordinal) { ["apple"] = 0.50, ["pear"] = 0.75, ["plum"] = 0.30 };
app.MapGet("/price-csharp", (HttpContext http) =>
{
    var p = PriceEndpoints.Parameters(http);
    if (p.Error is { } bad)
    {
        return bad;
    }
    return units.TryGetValue(p.Item, out double unit)
        ? PriceEndpoints.Text(200, (unit * p.Qty * (p.Qty >= 10 ? 0.9 : 1)).ToString("F2", CultureInfo.InvariantCulture))
        : PriceEndpoints.Text(404, $"unknown item '{p.Item}'");
});

// What users write today: a KeraLua state behind a lock, on the request thread.
app.MapGet("/price-lock", (HttpContext http) =>
{
    var p = PriceEndpoints.Parameters(http);
    if (p.Error is { } bad)
    {
        return bad;
    }
    var (body, message) = locked.Price(p.Item, p.Qty);
    return body is not null ? PriceEndpoints.Text(200, body) : PriceEndpoints.Text(404, message ?? "no price");
});

await app.RunAsync();
locked.Dispose();
