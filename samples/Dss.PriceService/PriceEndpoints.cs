using System.Globalization;
using DarkSideSync.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace DarkSideSync.PriceService;

/// <summary>
/// GET /price and GET /quote: the parameters are checked here, the price is the Lua rule's
/// (<c>scripts/pricing.lua</c>). What goes wrong maps to one status each, with a one-line
/// text body: 400 bad parameters, 404 unknown item, 500 a Lua error (its traceback goes to the
/// log), 504 over the time budget or the call's timeout, 503 with Retry-After when the pool
/// is full or stopping.
/// </summary>
internal static class PriceEndpoints
{
    public const string Pool = "pricing";
    private const int MaxQuantity = 10000;

    public static void Map(WebApplication app)
    {
        app.MapGet("/price", (HttpContext http, [FromKeyedServices(Pool)] ILuaPool pricing, ILoggerFactory logs) =>
        {
            if (Parameters(http) is { Error: { } bad })
            {
                return Task.FromResult(bad);
            }
            var (item, qty) = Parameters(http);
            return Call(http, logs, () => pricing.CallAsync<(string?, string?, string?)>("pricing.price", [item, qty],
                cancellationToken: http.RequestAborted));
        });

        app.MapGet("/quote", (HttpContext http, [FromKeyedServices(Pool)] ILuaPool pricing, ILoggerFactory logs) =>
        {
            if (Parameters(http) is { Error: { } bad })
            {
                return Task.FromResult(bad);
            }
            var (item, qty) = Parameters(http);
            string? currency = http.Request.Query["currency"];
            if (string.IsNullOrEmpty(currency))
            {
                return Task.FromResult(Text(400, "missing currency (e.g. currency=EUR)"));
            }
            currency = currency.ToUpperInvariant();
            http.Response.Headers["Currency"] = currency;
            return Call(http, logs, () => pricing.CallAsync<(string?, string?, string?)>("pricing.quote", [item, qty, currency],
                cancellationToken: http.RequestAborted));
        });
    }

    /// <summary>The checked parameters of a request, or the 400 to answer.</summary>
    internal readonly record struct Checked(string Item, int Qty, IResult? Error = null)
    {
        public void Deconstruct(out string item, out int qty) => (item, qty) = (Item, Qty);
    }

    /// <summary>item and qty (an integer from 1 to 10000), or the 400 that says what is wrong (the benchmark's endpoints check the same).</summary>
    internal static Checked Parameters(HttpContext http)
    {
        string? item = http.Request.Query["item"];
        if (string.IsNullOrEmpty(item))
        {
            return new("", 0, Text(400, "missing item (e.g. item=apple)"));
        }
        string? qty = http.Request.Query["qty"];
        if (string.IsNullOrEmpty(qty))
        {
            return new(item, 0, Text(400, "missing qty (an integer from 1 to 10000)"));
        }
        if (!int.TryParse(qty, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1 || n > MaxQuantity)
        {
            return new(item, 0, Text(400, $"bad qty '{OneLine(qty)}': an integer from 1 to 10000"));
        }
        return new(item, n);
    }

    private static async Task<IResult> Call(HttpContext http, ILoggerFactory logs, Func<Task<(string? Body, string? Kind, string? Message)>> call)
    {
        try
        {
            var (body, kind, message) = await call().ConfigureAwait(false);
            return body is not null
                ? Text(200, body)
                : Text(kind == "item" ? 404 : 400, OneLine(message ?? "no price"));
        }
        catch (LuaBudgetExceededException e)
        {
            return Text(504, $"pricing took too long ({e.LuaMessage})");
        }
        catch (LuaCallTimeoutException e)
        {
            return Text(504, $"pricing took too long (no answer within {e.Timeout.TotalSeconds:0.###}s)");
        }
        catch (LuaScriptException e)
        {
            logs.CreateLogger("DarkSideSync.PriceService").LogError("{Path} failed: {Message}\n{Traceback}", e.Path, e.LuaMessage, e.LuaTraceback);
            return Text(500, $"pricing failed: {OneLine(e.LuaMessage)}");
        }
        catch (LuaStateUnavailableException e)
        {
            http.Response.Headers.RetryAfter = "1";
            return Text(503, e.Status == DssStatus.QueueFull ? "pricing is busy; retry later" : "pricing is not available now; retry later");
        }
    }

    internal static IResult Text(int status, string body) => Results.Text(body, "text/plain", statusCode: status);

    private static string OneLine(string text)
    {
        int end = text.AsSpan().IndexOfAny('\r', '\n');
        string line = end < 0 ? text : text[..end];
        return line.Length <= 200 ? line : line[..200];
    }
}
