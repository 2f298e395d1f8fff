using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using DarkSideSync.Hosting.Akka.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DarkSideSync.Hosting.Akka.Tests;

/// <summary>
/// The stop order WithLuaPool sets up by default, with a real Kestrel on 127.0.0.1: the host's
/// stop drains the web requests (their Lua calls run), then CoordinatedShutdown drains the pool,
/// then the ActorSystem terminates; a CoordinatedShutdown started elsewhere stops the host too.
/// </summary>
public sealed class ShutdownOrderSpec : IDisposable
{
    private readonly ScriptFolder _scripts = new();

    public ShutdownOrderSpec() => _scripts.Write("startup.lua", """
        function slow(ms) wait.ms(ms); return "done" end
        """);

    public void Dispose() => _scripts.Dispose();

    private void Pool(LuaPoolOptions options)
    {
        options.Size = 1;
        options.State.ScriptFolders.Add(_scripts.Path);
        options.State.StartupScripts.Add("startup.lua");
        options.State.Exports.Add("wait.ms", async (int ms, CancellationToken ct) => await Task.Delay(ms, ct));
    }

    [Fact]
    public async Task Stopping_the_host_drains_the_requests_then_the_pool_then_the_actor_system()
    {
        var times = new ConcurrentDictionary<string, long>();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddLuaPools();
        builder.Services.AddAkka("shutdown-order", (akka, _) => akka.WithLuaPool("pricing", Pool));
        var app = builder.Build();
        int arrived = 0;
        // The handler waits before it calls Lua: a pool stopped before Kestrel drained would refuse these calls.
        app.MapGet("/slow", async (ILuaPool pool) =>
        {
            Interlocked.Increment(ref arrived);
            await Task.Delay(400);
            return await pool.CallAsync<string>("slow", [300]);
        });
        await app.StartAsync().WaitAsync(TestHost.Patience);
        var run = app.WaitForShutdownAsync();
        try
        {
            string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var system = app.Services.GetRequiredService<ActorSystem>();
            var supervisor = app.Services.GetRequiredService<ILuaPool>().Supervisor;
            var clock = Stopwatch.StartNew();
            _ = supervisor.WatchAsync().ContinueWith(_ => times["pool stopped"] = clock.ElapsedTicks, TaskScheduler.Default);
            _ = system.WhenTerminated.ContinueWith(_ => times["system terminated"] = clock.ElapsedTicks, TaskScheduler.Default);

            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TestHost.Patience };
            var requests = Enumerable.Range(0, 8).Select(async _ =>
            {
                using var response = await http.GetAsync(new Uri("/slow", UriKind.Relative));
                string body = await response.Content.ReadAsStringAsync();
                times.AddOrUpdate("last answer", clock.ElapsedTicks, (_, last) => Math.Max(last, clock.ElapsedTicks));
                return ((int)response.StatusCode, body);
            }).ToArray();
            while (Volatile.Read(ref arrived) < requests.Length && clock.Elapsed < TestHost.Patience)
            {
                await Task.Delay(10);
            }

            app.Lifetime.StopApplication(); // what SIGTERM and Ctrl-C do (ConsoleLifetime)
            var answers = await Task.WhenAll(requests).WaitAsync(TestHost.Patience);
            await run.WaitAsync(TestHost.Patience);

            Assert.All(answers, a => Assert.Equal((200, "done"), a));
            Assert.True(times["last answer"] < times["pool stopped"], "the pool stopped before the last request was answered");
            Assert.True(times["pool stopped"] <= times["system terminated"], "the ActorSystem terminated before the pool stopped");
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Akka_s_own_signal_hook_is_off_so_the_host_s_stop_drives_coordinated_shutdown()
    {
        var host = await TestHost.Build((akka, _) => akka.WithLuaPool("pricing", Pool)).StartBoundedAsync();
        try
        {
            var config = host.Services.GetRequiredService<ActorSystem>().Settings.Config;
            Assert.False(config.GetBoolean("akka.coordinated-shutdown.run-by-clr-shutdown-hook"));
            Assert.Equal(TimeSpan.FromSeconds(30), CoordinatedShutdown.Get(host.Services.GetRequiredService<ActorSystem>()).Timeout("service-stop"));
        }
        finally
        {
            await host.StopBoundedAsync();
        }
    }

    [Fact]
    public async Task A_service_s_own_hocon_for_those_keys_wins()
    {
        var host = await TestHost.Build((akka, _) => akka
            .WithLuaPool("pricing", Pool)
            .AddHocon(ConfigurationFactory.ParseString("akka.coordinated-shutdown.phases.service-stop.timeout = 45s"), HoconAddMode.Prepend))
            .StartBoundedAsync();
        try
        {
            Assert.Equal(TimeSpan.FromSeconds(45), CoordinatedShutdown.Get(host.Services.GetRequiredService<ActorSystem>()).Timeout("service-stop"));
        }
        finally
        {
            await host.StopBoundedAsync();
        }
    }

    [Fact]
    public async Task A_coordinated_shutdown_started_elsewhere_stops_the_host_and_the_pool_finishes_its_calls()
    {
        var host = await TestHost.Build((akka, _) => akka.WithLuaPool("pricing", Pool)).StartBoundedAsync();
        try
        {
            var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
            var pool = host.Services.GetRequiredService<ILuaPool>();
            var call = pool.CallAsync<string>("slow", [500]);
            await Task.Delay(100); // the call is in Lua, awaiting .NET
            var shutdown = CoordinatedShutdown.Get(host.Services.GetRequiredService<ActorSystem>()).Run(CoordinatedShutdown.UnknownReason.Instance);
            Assert.Equal("done", await call.WaitAsync(TestHost.Patience));
            await shutdown.WaitAsync(TestHost.Patience);
            Assert.True(lifetime.ApplicationStopping.IsCancellationRequested, "the host was not asked to stop");
        }
        finally
        {
            await host.StopBoundedAsync();
        }
    }

    [Fact]
    public async Task A_stop_deadline_longer_than_the_drain_phase_fails_the_start_and_says_which_keys()
    {
        var host = TestHost.Build((akka, _) => akka.WithLuaPool("pricing", options =>
        {
            Pool(options);
            options.State.StopDeadline = TimeSpan.FromSeconds(40);
        }));
        try
        {
            var failure = await Assert.ThrowsAsync<ConfigurationException>(() => host.StartBoundedAsync());
            Assert.Contains("akka.coordinated-shutdown.phases.service-stop.timeout (00:00:30)", failure.Message, StringComparison.Ordinal);
            Assert.Contains("stop-deadline (00:00:40)", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            host.Dispose();
        }
    }
}
