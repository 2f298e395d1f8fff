using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Microsoft.Extensions.Hosting;

namespace DarkSideSync.Hosting.Shutdown;

/// <summary>
/// Where the pools stop in a service's shutdown. The host stops first (Kestrel stops accepting
/// and drains its requests, whose Lua calls still run), then Akka.Hosting's hosted service runs
/// CoordinatedShutdown, whose <see cref="PoolPhase"/> drains every pool, then the ActorSystem
/// terminates. When CoordinatedShutdown starts first (an actor, a cluster leaving), the
/// <see cref="HostPhase"/> task asks the host to stop too.
/// </summary>
internal static class LuaPoolShutdown
{
    /// <summary>The phase whose task drains a pool (HOCON <c>akka.coordinated-shutdown.phases.service-stop</c>).</summary>
    public const string PoolPhase = CoordinatedShutdown.PhaseServiceStop;

    /// <summary>The phase whose task stops the host when CoordinatedShutdown started first.</summary>
    public const string HostPhase = CoordinatedShutdown.PhaseBeforeServiceUnbind;

    /// <summary>
    /// What WithLuaPool adds to the ActorSystem's HOCON as a fallback (keys explained at the end
    /// of <c>hocon/darksidesync-hosting.conf</c>): Akka's own signal hook off, so the host's
    /// stop drives CoordinatedShutdown; service-stop long enough for a pool's default drain.
    /// </summary>
    public static Config Fallback { get; } = ConfigurationFactory.ParseString("""
        akka.coordinated-shutdown {
          run-by-clr-shutdown-hook = off
          phases.service-stop.timeout = 30s
        }
        """);

    // Time the drain task needs beyond the pool's deadline: the last budget check, the states' close.
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1);

    /// <summary>Fails the start when the pool's drain could not finish within its phase (the ActorSystem would stop under running calls).</summary>
    public static void Verify(ActorSystem system, string pool, LuaPoolOptions options)
    {
        var phase = CoordinatedShutdown.Get(system).Timeout(PoolPhase);
        if (options.State.StopDeadline + Margin > phase)
        {
            throw new ConfigurationException(
                $"Lua pool '{pool}': its stop-deadline ({options.State.StopDeadline}) plus {Margin.TotalSeconds:0}s is longer than " +
                $"akka.coordinated-shutdown.phases.{PoolPhase}.timeout ({phase}), the phase in which the pool drains: " +
                "the ActorSystem would stop under running calls. Raise that timeout in HOCON or lower the stop-deadline.");
        }
    }

    /// <summary>Adds the pool's drain to <see cref="PoolPhase"/>.</summary>
    public static void Register(ActorSystem system, LuaPool pool)
    {
        var log = Logging.GetLogger(system, "DarkSideSync.Hosting.LuaPoolShutdown");
        CoordinatedShutdown.Get(system).AddTask(PoolPhase, $"darksidesync-drain-{pool.Name}", async () =>
        {
            log.Info("Draining Lua pool {0} (at most {1}).", pool.Name, pool.StopDeadline);
            await pool.StopAsync().ConfigureAwait(false);
            log.Info("Lua pool {0} stopped.", pool.Name);
            return Done.Instance;
        });
    }

    /// <summary>Once per ActorSystem: a CoordinatedShutdown that did not come from the host's stop asks the host to stop.</summary>
    public static void RegisterHostStop(ActorSystem system, IHostApplicationLifetime? lifetime)
    {
        if (lifetime is null)
        {
            return;
        }
        var log = Logging.GetLogger(system, "DarkSideSync.Hosting.LuaPoolShutdown");
        CoordinatedShutdown.Get(system).AddTask(HostPhase, "darksidesync-stop-host", () =>
        {
            if (!lifetime.ApplicationStopping.IsCancellationRequested)
            {
                log.Info("CoordinatedShutdown started before the host's stop ({0}): stopping the host too.",
                    CoordinatedShutdown.Get(system).ShutdownReason);
                lifetime.StopApplication();
            }
            return Task.FromResult(Done.Instance);
        });
    }
}
