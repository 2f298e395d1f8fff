using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using DarkSideSync.Hosting.Akka.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DarkSideSync.Hosting.Akka.Tests;

/// <summary>
/// builder.WithLuaPool in a real generic host: the pool starts with the ActorSystem, its
/// supervisor is in the ActorRegistry under a typed key, the pool is injectable by name;
/// options come from HOCON, IConfiguration and code (in that order), exports from DI; bad
/// input fails clearly, at the call or at the start.
/// </summary>
public sealed class WithLuaPoolSpec : IDisposable
{
    private readonly ScriptFolder _scripts = new();

    public WithLuaPoolSpec() => _scripts.Write("startup.lua", """
        function add(a, b) return a + b end
        function spin() while true do end end
        function rate(currency) return rates.lookup(currency) end
        function where() return package.path end
        """);

    public void Dispose() => _scripts.Dispose();

    private sealed class PricingPool;

    private sealed class OtherPool;

    /// <summary>A .NET service the Lua scripts call, registered in DI.</summary>
    private sealed class Rates
    {
        public async Task<double> LookupAsync(string currency, CancellationToken cancellationToken)
        {
            await Task.Delay(1, cancellationToken);
            return currency == "EUR" ? 0.9 : 1.0;
        }
    }

    private void Scripts(LuaPoolOptions options)
    {
        options.State.ScriptFolders.Add(_scripts.Path);
        options.State.StartupScripts.Add("startup.lua");
    }

    [Fact]
    public async Task The_pool_starts_with_the_actor_system_and_its_supervisor_is_registered_under_its_key()
    {
        var host = await TestHost.Build((akka, _) => akka.WithLuaPool<PricingPool>("pricing", options =>
        {
            options.Size = 2;
            Scripts(options);
        })).StartBoundedAsync();
        try
        {
            var supervisor = await host.Services.GetRequiredService<IRequiredActor<PricingPool>>().GetAsync();
            Assert.Equal("/user/pricing", supervisor.Path.ToStringWithoutAddress());
            var result = await supervisor.Ask<LuaResult>(new LuaCall("add", [2, 3]), TestHost.Patience);
            Assert.Equal(5L, result.Values[0]);
        }
        finally
        {
            await host.StopBoundedAsync();
        }
    }

    [Fact]
    public async Task Handlers_inject_a_pool_by_its_name_or_the_only_pool_without_one()
    {
        var host = await TestHost.Build((akka, _) => akka.WithLuaPool("pricing", options =>
        {
            options.Size = 1;
            Scripts(options);
        })).StartBoundedAsync();
        try
        {
            var byName = host.Services.GetRequiredKeyedService<ILuaPool>("pricing");
            var only = host.Services.GetRequiredService<ILuaPool>();
            Assert.Same(byName.Supervisor, only.Supervisor);
            Assert.Equal(7L, await byName.CallAsync<long>("add", [3, 4]));
            Assert.Same(byName.Supervisor, LuaPools.For(host.Services.GetRequiredService<ActorSystem>()).Get("pricing").Supervisor);
            var missing = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredKeyedService<ILuaPool>("nope"));
            Assert.Contains("No Lua pool named 'nope' has started (started: pricing)", missing.Message, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopBoundedAsync();
        }
    }

    [Fact]
    public async Task Two_pools_each_with_a_key_of_its_own_are_injected_by_name()
    {
        var host = await TestHost.Build((akka, _) => akka
            .WithLuaPool<PricingPool>("pricing", options => { options.Size = 1; Scripts(options); })
            .WithLuaPool<OtherPool>("other", options => { options.Size = 1; Scripts(options); })).StartBoundedAsync();
        try
        {
            Assert.Equal("pricing", host.Services.GetRequiredKeyedService<ILuaPool>("pricing").Name);
            Assert.Equal("other", host.Services.GetRequiredKeyedService<ILuaPool>("other").Name);
            var ambiguous = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<ILuaPool>());
            Assert.Contains("There are 2 Lua pools (other, pricing)", ambiguous.Message, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopBoundedAsync();
        }
    }

    [Fact]
    public async Task Options_come_from_hocon_then_configuration_then_code()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Lua:Pricing:Size"] = "2",                       // over HOCON's 3
            ["Lua:Pricing:State:DefaultTimeout"] = "00:00:07",
            ["Lua:Pricing:Health:QueueThreshold"] = "5",
        };
        string hocon = $$"""
            darksidesync.hosting.pools.pricing {
              size = 3
              script-folders = ["{{_scripts.Path}}"]
              startup-scripts = ["startup.lua"]
              call-budget = 50ms
              stop-deadline = 4s
            }
            """;
        var host = await TestHost.Build((akka, sp) => akka
            .AddHocon(ConfigurationFactory.ParseString(hocon), HoconAddMode.Prepend)
            .WithLuaPool("pricing", sp.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>().GetSection("Lua:Pricing"),
                (options, _) => options.State.DefaultTimeout = TimeSpan.FromSeconds(9)), settings: settings).StartBoundedAsync();
        try
        {
            var pool = (LuaPool)LuaPools.For(host.Services.GetRequiredService<ActorSystem>()).Get("pricing");
            Assert.Equal(2, pool.Size);                                         // configuration over HOCON
            Assert.Equal(TimeSpan.FromSeconds(4), pool.StopDeadline);           // HOCON over the defaults
            var overBudget = await Assert.ThrowsAsync<LuaBudgetExceededException>(() => pool.CallAsync<object>("spin"));
            Assert.Equal(LuaBudget.Time, overBudget.Budget);                    // HOCON's call-budget
        }
        finally
        {
            await host.StopBoundedAsync();
        }
    }

    [Fact]
    public async Task Exported_functions_come_from_the_service_provider()
    {
        var host = await TestHost.Build((akka, _) => akka.WithLuaPool("pricing", (options, sp) =>
        {
            options.Size = 1;
            Scripts(options);
            options.State.Exports.Add("rates.lookup", sp.GetRequiredService<Rates>().LookupAsync);
        }), services => services.AddSingleton<Rates>()).StartBoundedAsync();
        try
        {
            Assert.Equal(0.9, await host.Services.GetRequiredService<ILuaPool>().CallAsync<double>("rate", ["EUR"]));
        }
        finally
        {
            await host.StopBoundedAsync();
        }
    }

    [Fact]
    public async Task A_relative_script_folder_is_relative_to_the_content_root()
    {
        string root = Path.GetDirectoryName(_scripts.Path)!;
        var host = await TestHost.Build((akka, _) => akka.WithLuaPool("pricing", options =>
        {
            options.Size = 1;
            options.State.ScriptFolders.Add(Path.GetFileName(_scripts.Path));
            options.State.StartupScripts.Add("startup.lua");
        }), contentRoot: root).StartBoundedAsync();
        try
        {
            string path = await host.Services.GetRequiredService<ILuaPool>().CallAsync<string>("where");
            Assert.StartsWith(Path.Combine(_scripts.Path, "?.lua"), path, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopBoundedAsync();
        }
    }

    [Fact]
    public void A_second_pool_with_the_same_name_or_without_a_key_is_refused_at_once()
    {
        var builder = new AkkaConfigurationBuilder(new ServiceCollection(), "refusals");
        builder.WithLuaPool("pricing");
        var sameName = Assert.Throws<ArgumentException>(() => builder.WithLuaPool<PricingPool>("pricing"));
        Assert.Contains("A Lua pool named 'pricing' was added already", sameName.Message, StringComparison.Ordinal);
        var noKey = Assert.Throws<ArgumentException>(() => builder.WithLuaPool("other"));
        Assert.Contains("WithLuaPool<TKey>(\"other\", ...)", noKey.Message, StringComparison.Ordinal);
        var badName = Assert.Throws<ArgumentException>(() => builder.WithLuaPool<OtherPool>("no/slash"));
        Assert.Contains("'no/slash' is not a valid pool name", badName.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("size = 0", "darksidesync.hosting.pools.pricing.size must be auto or an integer from 1 to 1024, not '0'.")]
    [InlineData("routing = random", "darksidesync.hosting.pools.pricing.routing must be least-busy or round-robin, not 'random'.")]
    [InlineData("call-budget = soon", "darksidesync.hosting.pools.pricing.call-budget")]
    [InlineData("queue-overflow = drop", "darksidesync.hosting.pools.pricing.queue-overflow must be block or fail, not 'drop'.")]
    public async Task A_bad_hocon_value_fails_the_start_with_a_message_that_names_its_key(string line, string message)
    {
        var host = TestHost.Build((akka, _) => akka
            .AddHocon(ConfigurationFactory.ParseString($"darksidesync.hosting.pools.pricing {{ {line} }}"), HoconAddMode.Prepend)
            .WithLuaPool("pricing", Scripts));
        try
        {
            var failure = await Assert.ThrowsAnyAsync<Exception>(() => host.StartBoundedAsync());
            Assert.Contains(message, failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            host.Dispose();
        }
    }

    [Fact]
    public async Task An_unknown_configuration_key_fails_the_start()
    {
        var settings = new Dictionary<string, string?> { ["Lua:Pricing:Sise"] = "2" };
        var host = TestHost.Build((akka, sp) => akka.WithLuaPool("pricing",
            sp.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>().GetSection("Lua:Pricing"),
            (options, _) => Scripts(options)), settings: settings);
        try
        {
            var failure = await Assert.ThrowsAnyAsync<Exception>(() => host.StartBoundedAsync());
            Assert.Contains("Sise", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            host.Dispose();
        }
    }

    [Fact]
    public async Task A_failing_start_up_script_fails_the_service_s_start_with_lua_s_message()
    {
        _scripts.Write("broken.lua", "error('no prices today')");
        var host = TestHost.Build((akka, _) => akka.WithLuaPool("pricing", options =>
        {
            options.Size = 1;
            options.State.ScriptFolders.Add(_scripts.Path);
            options.State.StartupScripts.Add("broken.lua");
        }));
        try
        {
            var failure = await Assert.ThrowsAsync<LuaStartupException>(() => host.StartBoundedAsync());
            Assert.Contains("no prices today", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            host.Dispose();
        }
    }
}
