using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.DependencyInjection;
using Akka.Hosting;
using DarkSideSync.Hosting.Configuration;
using DarkSideSync.Hosting.Shutdown;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace DarkSideSync.Hosting;

/// <summary>
/// Lua pools in an Akka.Hosting service: <c>services.AddAkka("svc", (builder, sp) =&gt;
/// builder.WithLuaPool("pricing", options =&gt; ...))</c>. Each pool starts with the ActorSystem
/// (its supervisor a top-level actor named after the pool), is registered in the
/// <see cref="ActorRegistry"/> (<c>IRequiredActor&lt;TKey&gt;</c> gives its supervisor) and in
/// <see cref="LuaPools"/> (what <c>AddLuaPools()</c> injects as <see cref="ILuaPool"/>).
/// </summary>
/// <remarks>
/// A pool's options, later wins: the HOCON defaults (<c>darksidesync.hosting.pool-defaults</c>,
/// <c>hocon/darksidesync-hosting.conf</c>), its HOCON section <c>darksidesync.hosting.pools.&lt;name&gt;</c>,
/// the <see cref="IConfiguration"/> section given here (bound onto <see cref="LuaPoolOptions"/>:
/// <c>Size</c>, <c>State:ScriptFolders:0</c>, <c>State:CallBudget</c> ...; unknown keys fail the
/// start), then the code delegate, which also gets the service provider (exports from DI).
/// Relative script folders are relative to the host's content root. A start-up error fails
/// the service's start.
/// <para>
/// Shutdown, by default in the right order: WithLuaPool turns Akka's own SIGTERM/SIGINT hook off
/// (<c>akka.coordinated-shutdown.run-by-clr-shutdown-hook = off</c>, a fallback), so a signal
/// stops the host, which stops Kestrel first (it stops accepting and drains its requests, whose
/// Lua calls still run), then Akka.Hosting's hosted service, which runs CoordinatedShutdown: its
/// <c>service-stop</c> phase drains each pool (<see cref="LuaStateOptions.StopDeadline"/>), then the
/// ActorSystem terminates. A CoordinatedShutdown started elsewhere asks the host to stop too
/// (in <c>before-service-unbind</c>).
/// </para>
/// <para>
/// Health: each pool adds a health check named <c>lua-pool-&lt;name&gt;</c> (tags <c>akka</c>,
/// <c>darksidesync</c>, <c>lua</c>; see <see cref="HealthChecks.LuaPoolHealthCheck"/>), reported by
/// <c>services.AddHealthChecks()</c> and <c>app.MapHealthChecks(...)</c>.
/// </para>
/// </remarks>
public static class LuaPoolHostingExtensions
{
    // What the WithLuaPool calls on one builder declared so far: names and registry keys are unique.
    private sealed class Declared
    {
        public HashSet<string> Names { get; } = new(StringComparer.Ordinal);

        public HashSet<Type> Keys { get; } = [];

        public bool ShutdownConfigured { get; set; }
    }

    private static readonly ConditionalWeakTable<AkkaConfigurationBuilder, Declared> DeclaredBy = [];

    /// <summary>Adds the pool <paramref name="name"/>, its supervisor registered under <see cref="ILuaPool"/> (one such pool per system; name others with <see cref="WithLuaPool{TKey}(AkkaConfigurationBuilder, string, Action{LuaPoolOptions}?)"/>).</summary>
    public static AkkaConfigurationBuilder WithLuaPool(this AkkaConfigurationBuilder builder, string name,
        Action<LuaPoolOptions>? configure = null) =>
        builder.WithLuaPool<ILuaPool>(name, configure);

    /// <inheritdoc cref="WithLuaPool(AkkaConfigurationBuilder, string, Action{LuaPoolOptions}?)"/>
    public static AkkaConfigurationBuilder WithLuaPool(this AkkaConfigurationBuilder builder, string name,
        Action<LuaPoolOptions, IServiceProvider> configure) =>
        builder.WithLuaPool<ILuaPool>(name, configure);

    /// <inheritdoc cref="WithLuaPool(AkkaConfigurationBuilder, string, Action{LuaPoolOptions}?)"/>
    public static AkkaConfigurationBuilder WithLuaPool(this AkkaConfigurationBuilder builder, string name,
        IConfiguration configuration, Action<LuaPoolOptions, IServiceProvider>? configure = null) =>
        builder.WithLuaPool<ILuaPool>(name, configuration, configure);

    /// <summary>Adds the pool <paramref name="name"/>, its supervisor registered under <typeparamref name="TKey"/> (<c>IRequiredActor&lt;TKey&gt;</c>).</summary>
    public static AkkaConfigurationBuilder WithLuaPool<TKey>(this AkkaConfigurationBuilder builder, string name,
        Action<LuaPoolOptions>? configure = null) =>
        Add<TKey>(builder, name, null, configure is null ? null : (options, _) => configure(options));

    /// <inheritdoc cref="WithLuaPool{TKey}(AkkaConfigurationBuilder, string, Action{LuaPoolOptions}?)"/>
    public static AkkaConfigurationBuilder WithLuaPool<TKey>(this AkkaConfigurationBuilder builder, string name,
        Action<LuaPoolOptions, IServiceProvider> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return Add<TKey>(builder, name, null, configure);
    }

    /// <inheritdoc cref="WithLuaPool{TKey}(AkkaConfigurationBuilder, string, Action{LuaPoolOptions}?)"/>
    public static AkkaConfigurationBuilder WithLuaPool<TKey>(this AkkaConfigurationBuilder builder, string name,
        IConfiguration configuration, Action<LuaPoolOptions, IServiceProvider>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Add<TKey>(builder, name, configuration, configure);
    }

    private static AkkaConfigurationBuilder Add<TKey>(AkkaConfigurationBuilder builder, string name,
        IConfiguration? configuration, Action<LuaPoolOptions, IServiceProvider>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (string.IsNullOrEmpty(name) || !ActorPath.IsValidPathElement(name))
        {
            throw new ArgumentException($"'{name}' is not a valid pool name: it names the pool's supervisor actor (letters, digits, -_.*$+:@&=,!~';, not starting with $).", nameof(name));
        }
        var declared = DeclaredBy.GetOrCreateValue(builder);
        if (!declared.Names.Add(name))
        {
            throw new ArgumentException($"A Lua pool named '{name}' was added already.", nameof(name));
        }
        if (!declared.Keys.Add(typeof(TKey)))
        {
            declared.Names.Remove(name);
            throw new ArgumentException(typeof(TKey) == typeof(ILuaPool)
                ? $"Lua pool '{name}': another pool was added without a registry key; give each further pool one: WithLuaPool<TKey>(\"{name}\", ...)."
                : $"Lua pool '{name}': the registry key {typeof(TKey).Name} is taken by another pool.", nameof(name));
        }

        if (!declared.ShutdownConfigured)
        {
            // Before the ActorSystem exists: CoordinatedShutdown reads these when it is made.
            builder.AddHocon(LuaPoolShutdown.Fallback, HoconAddMode.Append);
            declared.ShutdownConfigured = true;
        }

        ActorStarterWithResolver start = async (system, registry, resolver) =>
        {
            var pools = LuaPools.For(system);
            try
            {
                var services = resolver.GetService<IServiceProvider>();
                var options = Options(system.Settings.Config, name, configuration, configure, services);
                LuaPoolShutdown.Verify(system, name, options);
                var pool = await LuaPool.StartAsync(system, options, name).ConfigureAwait(false);
                LuaPoolShutdown.Register(system, pool);
                if (pools.TakeHostStopTask())
                {
                    LuaPoolShutdown.RegisterHostStop(system, resolver.GetService<IHostApplicationLifetime>());
                }
                registry.Register<TKey>(pool.Supervisor);
                pools.Started(pool, options.Health);
            }
            catch (Exception e)
            {
                pools.Failed(name, e);
                throw;
            }
        };
        builder.WithHealthCheck(new AkkaHealthCheckRegistration($"lua-pool-{name}", new HealthChecks.LuaPoolAkkaHealthCheck(name),
            failureStatus: null, tags: ["darksidesync", "lua"]));
        return builder.WithActors(start);
    }

    /// <summary>The pool's options from its sources, in order (see the class remarks).</summary>
    internal static LuaPoolOptions Options(Akka.Configuration.Config systemConfig, string name, IConfiguration? configuration,
        Action<LuaPoolOptions, IServiceProvider>? configure, IServiceProvider services)
    {
        var options = LuaPoolHocon.Read(LuaPoolHocon.SectionOf(systemConfig, name), $"{LuaPoolHocon.Root}.pools.{name}");
        configuration?.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        configure?.Invoke(options, services);
        if (services.GetService(typeof(IHostEnvironment)) is IHostEnvironment { ContentRootPath: { Length: > 0 } root })
        {
            var folders = options.State.ScriptFolders;
            for (int i = 0; i < folders.Count; i++)
            {
                folders[i] = Path.GetFullPath(folders[i], root);
            }
        }
        return options;
    }
}
