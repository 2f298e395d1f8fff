using DarkSideSync.Hosting.Akka.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace DarkSideSync.Hosting.Akka.Tests;

/// <summary>
/// The health check WithLuaPool registers (lua-pool-&lt;name&gt;), read through ASP.NET Core's
/// HealthCheckService in a real host: Healthy; Degraded while a state's queue stays above the
/// threshold or a state is being replaced; Unhealthy when no state can take calls.
/// </summary>
public sealed class LuaPoolHealthSpec : IDisposable
{
    private const string Check = "lua-pool-pricing";
    private readonly ScriptFolder _scripts = new();

    public LuaPoolHealthSpec() => _scripts.Write("startup.lua", """
        function add(a, b) return a + b end
        function spin(seconds) local t = os.clock() + seconds; while os.clock() < t do end; return true end
        function die() require("darksidesync").stop() end
        """);

    public void Dispose() => _scripts.Dispose();

    private Task<IHost> Start(Action<LuaPoolOptions> configure) =>
        TestHost.Build((akka, _) => akka.WithLuaPool("pricing", options =>
        {
            options.Size = 1;
            options.State.ScriptFolders.Add(_scripts.Path);
            options.State.StartupScripts.Add("startup.lua");
            configure(options);
        }), services => services.AddHealthChecks()).StartBoundedAsync();

    private static async Task<HealthReportEntry> Health(IHost host)
    {
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries[Check];
    }

    [Fact]
    public async Task A_pool_whose_states_all_run_is_healthy_and_tagged()
    {
        var host = await Start(o => o.Size = 2);
        try
        {
            var entry = await Health(host);
            Assert.Equal(HealthStatus.Healthy, entry.Status);
            Assert.Equal("Lua pool pricing: 2 of 2 states running.", entry.Description);
            Assert.Contains("darksidesync", entry.Tags);
            Assert.Contains("akka", entry.Tags);
            Assert.Equal(0L, entry.Data["pricing-1.queued"]);
        }
        finally
        {
            await host.StopBoundedAsync();
        }
    }

    [Fact]
    public async Task A_queue_above_the_threshold_for_long_enough_degrades_the_pool()
    {
        var host = await Start(o =>
        {
            o.Health.QueueThreshold = 1;
            o.Health.DegradedAfter = TimeSpan.FromMilliseconds(300);
        });
        try
        {
            var pool = host.Services.GetRequiredService<ILuaPool>();
            var busy = pool.CallAsync<bool>("spin", [1.5]);
            await Task.Delay(100);
            var queued = Enumerable.Range(0, 3).Select(i => pool.CallAsync<long>("add", [i, 1])).ToArray();
            Assert.Equal(HealthStatus.Healthy, (await Health(host)).Status);       // seen above once: not yet
            await Task.Delay(400);
            var entry = await Health(host);
            Assert.Equal(HealthStatus.Degraded, entry.Status);
            Assert.Contains("queue above 1 for 0.3s or more: pricing-0 (3 queued)", entry.Description, StringComparison.Ordinal);
            await busy.WaitAsync(TestHost.Patience);
            await Task.WhenAll(queued).WaitAsync(TestHost.Patience);
            Assert.Equal(HealthStatus.Healthy, (await Health(host)).Status);       // drained: healthy again
        }
        finally
        {
            await host.StopBoundedAsync();
        }
    }

    [Fact]
    public async Task A_state_being_replaced_degrades_the_pool()
    {
        var host = await Start(o =>
        {
            o.Size = 2;
            o.MinBackoff = TimeSpan.FromSeconds(30);
        });
        try
        {
            var pool = host.Services.GetRequiredService<ILuaPool>();
            await Assert.ThrowsAnyAsync<Exception>(() => pool.CallAsync<object>("die", timeout: TimeSpan.FromSeconds(2)));
            var entry = await WaitFor(host, HealthStatus.Degraded);
            Assert.Contains("being replaced: pricing-", entry.Description, StringComparison.Ordinal);
            Assert.Equal(5L, await pool.CallAsync<long>("add", [2, 3]));             // the other state serves
        }
        finally
        {
            await host.StopBoundedAsync();
        }
    }

    [Fact]
    public async Task A_pool_with_no_running_state_is_unhealthy()
    {
        var host = await Start(o => o.MinBackoff = TimeSpan.FromSeconds(30));
        try
        {
            var pool = host.Services.GetRequiredService<ILuaPool>();
            await Assert.ThrowsAnyAsync<Exception>(() => pool.CallAsync<object>("die", timeout: TimeSpan.FromSeconds(2)));
            var entry = await WaitFor(host, HealthStatus.Unhealthy);
            Assert.Equal("Lua pool pricing: no state can take calls (0 of 1 running).", entry.Description);
        }
        finally
        {
            await host.StopBoundedAsync();
        }
    }

    // The state's death reaches the pool through its actor: a moment after the call failed.
    private static async Task<HealthReportEntry> WaitFor(IHost host, HealthStatus status)
    {
        var until = DateTime.UtcNow + TestHost.Patience;
        while (true)
        {
            var entry = await Health(host);
            if (entry.Status == status || DateTime.UtcNow > until)
            {
                Assert.Equal(status, entry.Status);
                return entry;
            }
            await Task.Delay(20);
        }
    }
}
