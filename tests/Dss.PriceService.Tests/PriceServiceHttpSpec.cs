using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DarkSideSync.PriceService.Tests;

/// <summary>
/// The price service's endpoint contract over a real socket (Kestrel on 127.0.0.1, a free
/// port, HttpClient): every status of /price and /quote, and /health. The rules are the
/// sample's scripts/pricing.lua; faults.lua, a test script loaded after it, adds items that
/// raise, run over the budget or hold the state, to reach the error statuses.
/// </summary>
public sealed class PriceServiceHttpSpec : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly string _faults = Path.Combine(Path.GetTempPath(), $"dss-faults-{Guid.NewGuid():N}.lua");
    private readonly List<WebApplication> _apps = [];

    public Task InitializeAsync()
    {
        File.WriteAllText(_faults, """
            local price = pricing.price
            function pricing.price(item, qty)
              if item == "boom" then error("the rule for boom is broken") end
              if item == "spin" then while true do end end
              if item == "hold" then local t = os.clock() + 0.3; while os.clock() < t do end; return price("apple", qty) end
              return price(item, qty)
            end
            """);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var app in _apps)
        {
            using var stop = new CancellationTokenSource(Patience);
            await app.StopAsync(stop.Token);
            await app.DisposeAsync();
        }
        File.Delete(_faults);
    }

    /// <summary>Starts the service on a free port, with the fault script and <paramref name="settings"/>; returns a client for it.</summary>
    private async Task<HttpClient> Start(params (string Key, string Value)[] settings)
    {
        var app = PriceServiceApp.Build(["--urls", "http://127.0.0.1:0"], builder =>
        {
            var all = new Dictionary<string, string?>
            {
                ["DarkSideSync:Pools:pricing:State:StartupScripts:1"] = _faults,
                ["Logging:LogLevel:Default"] = "Warning",
            };
            foreach (var (key, value) in settings)
            {
                all[key] = value;
            }
            builder.Configuration.AddInMemoryCollection(all);
        });
        _apps.Add(app);
        await app.StartAsync().WaitAsync(Patience);
        string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Assert.StartsWith("http://127.0.0.1:", url, StringComparison.Ordinal);
        return new HttpClient { BaseAddress = new Uri(url), Timeout = Patience };
    }

    private static async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> Get(HttpClient http, string path)
    {
        var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    [Theory]
    [InlineData("/price?item=apple&qty=3", "1.50")]
    [InlineData("/price?item=pear&qty=10", "6.75")]
    [InlineData("/price?item=plum&qty=9", "2.70")]
    [InlineData("/price?item=plum&qty=10000", "2700.00")]
    [InlineData("/price?item=apple&qty=1", "0.50")]
    public async Task Price_answers_the_lua_rule_s_amount_as_plain_text(string path, string body)
    {
        using var http = await Start();
        var (status, text, response) = await Get(http, path);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(body, text);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
    }

    [Theory]
    [InlineData("/price?item=apple", "missing qty (an integer from 1 to 10000)")]
    [InlineData("/price?item=apple&qty=", "missing qty (an integer from 1 to 10000)")]
    [InlineData("/price?item=apple&qty=0", "bad qty '0': an integer from 1 to 10000")]
    [InlineData("/price?item=apple&qty=10001", "bad qty '10001': an integer from 1 to 10000")]
    [InlineData("/price?item=apple&qty=-1", "bad qty '-1': an integer from 1 to 10000")]
    [InlineData("/price?item=apple&qty=1.5", "bad qty '1.5': an integer from 1 to 10000")]
    [InlineData("/price?item=apple&qty=three", "bad qty 'three': an integer from 1 to 10000")]
    [InlineData("/price?qty=3", "missing item (e.g. item=apple)")]
    public async Task A_missing_or_bad_parameter_is_400_with_a_one_line_message(string path, string message)
    {
        using var http = await Start();
        var (status, text, _) = await Get(http, path);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(message, text);
    }

    [Fact]
    public async Task An_unknown_item_is_404_with_a_one_line_message()
    {
        using var http = await Start();
        var (status, text, _) = await Get(http, "/price?item=kiwi&qty=2");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("unknown item 'kiwi'", text);
    }

    [Fact]
    public async Task A_lua_error_is_500_with_one_line_and_no_traceback()
    {
        using var http = await Start();
        var (status, text, _) = await Get(http, "/price?item=boom&qty=1");
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.StartsWith("pricing failed: ", text, StringComparison.Ordinal);
        Assert.EndsWith("the rule for boom is broken", text, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', text);
        Assert.DoesNotContain("traceback", text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_rule_over_its_time_budget_is_504_and_the_service_goes_on()
    {
        using var http = await Start();
        var (status, text, _) = await Get(http, "/price?item=spin&qty=1");
        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        Assert.Equal("pricing took too long (time budget exceeded)", text);
        Assert.Equal("1.50", (await Get(http, "/price?item=apple&qty=3")).Body);
    }

    [Fact]
    public async Task A_call_past_its_timeout_is_504()
    {
        using var http = await Start(("PriceService:RateLatency", "00:00:03"), ("DarkSideSync:Pools:pricing:State:DefaultTimeout", "00:00:00.300"));
        var (status, text, _) = await Get(http, "/quote?item=apple&qty=3&currency=EUR");
        Assert.Equal(HttpStatusCode.GatewayTimeout, status);
        Assert.Equal("pricing took too long (no answer within 0.3s)", text);
    }

    [Fact]
    public async Task A_full_pool_is_503_with_retry_after()
    {
        using var http = await Start(
            ("DarkSideSync:Pools:pricing:Size", "1"),
            ("DarkSideSync:Pools:pricing:State:QueueCapacity", "1"),
            ("DarkSideSync:Pools:pricing:State:CallBudget", "00:00:01"));
        var hold = Get(http, "/price?item=hold&qty=1");         // takes the only state for 0.3 s
        await Task.Delay(100);
        var more = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Get(http, "/price?item=apple&qty=3")));
        Assert.Equal(HttpStatusCode.OK, (await hold).Status);
        var refused = more.Where(r => r.Status == HttpStatusCode.ServiceUnavailable).ToArray();
        Assert.NotEmpty(refused);
        Assert.All(more, r => Assert.True(r.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{r.Status}"));
        Assert.All(refused, r =>
        {
            Assert.Equal("pricing is busy; retry later", r.Body);
            Assert.Equal("1", r.Response.Headers.RetryAfter!.ToString());
        });
    }

    [Fact]
    public async Task Quote_converts_the_price_through_the_async_rate_service_and_names_the_currency()
    {
        using var http = await Start();
        var (status, text, response) = await Get(http, "/quote?item=apple&qty=3&currency=EUR");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("1.38", text);                              // 1.50 USD x 0.92
        Assert.Equal("EUR", Assert.Single(response.Headers.GetValues("Currency")));
        Assert.Equal("6.21", (await Get(http, "/quote?item=pear&qty=10&currency=eur")).Body);  // 6.75 x 0.92
        Assert.Equal((HttpStatusCode.BadRequest, "unknown currency 'XYZ'"), Pick(await Get(http, "/quote?item=apple&qty=3&currency=XYZ")));
        Assert.Equal((HttpStatusCode.BadRequest, "missing currency (e.g. currency=EUR)"), Pick(await Get(http, "/quote?item=apple&qty=3")));
        Assert.Equal((HttpStatusCode.NotFound, "unknown item 'kiwi'"), Pick(await Get(http, "/quote?item=kiwi&qty=3&currency=EUR")));
    }

    private static (HttpStatusCode, string) Pick((HttpStatusCode Status, string Body, HttpResponseMessage _) r) => (r.Status, r.Body);

    [Fact]
    public async Task Health_reports_the_pool()
    {
        using var http = await Start();
        var (status, text, _) = await Get(http, "/health");
        Assert.Equal(HttpStatusCode.OK, status);
        using var report = JsonDocument.Parse(text);
        Assert.Equal("Healthy", report.RootElement.GetProperty("status").GetString());
        var pool = report.RootElement.GetProperty("checks").GetProperty("lua-pool-pricing");
        Assert.Equal("Lua pool pricing: 2 of 2 states running.", pool.GetProperty("description").GetString());
        Assert.Equal(0, pool.GetProperty("data").GetProperty("pricing-1.queued").GetInt64());
    }
}
