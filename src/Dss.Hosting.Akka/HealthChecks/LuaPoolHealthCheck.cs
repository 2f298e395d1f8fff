using Akka.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DarkSideSync.Hosting.HealthChecks;

/// <summary>
/// A pool's health: <b>Healthy</b> when every state runs and no queue stays long above the
/// threshold; <b>Degraded</b> when a state is being replaced (it died, and waits for its back-off)
/// or a state's queue holds more than <see cref="LuaPoolHealthOptions.QueueThreshold"/> calls at
/// two checks at least <see cref="LuaPoolHealthOptions.DegradedAfter"/> apart; <b>Unhealthy</b>
/// (the registration's failure status) when no state can take calls. The data has each
/// state's queue. WithLuaPool registers one per pool, named <c>lua-pool-&lt;name&gt;</c>; for a
/// pool made otherwise, <c>services.AddHealthChecks().AddCheck("lua", new LuaPoolHealthCheck(pool, options))</c>.
/// Thread-safe: checks may run at once.
/// </summary>
public sealed class LuaPoolHealthCheck : IHealthCheck
{
    private readonly ILuaPool _pool;
    private readonly LuaPoolHealthOptions _options;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long?[] _aboveSince;   // per state: when a check first saw its queue above the threshold; null: not above

    public LuaPoolHealthCheck(ILuaPool pool, LuaPoolHealthOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(options);
        _pool = pool;
        _options = options;
        _time = time ?? TimeProvider.System;
        _aboveSince = new long?[pool.Size];
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Check(context?.Registration?.FailureStatus ?? HealthStatus.Unhealthy));

    internal HealthCheckResult Check(HealthStatus failureStatus)
    {
        var stats = _pool.Stats;
        var data = new Dictionary<string, object>(StringComparer.Ordinal) { ["size"] = stats.Count };
        var replaced = new List<string>();
        var crowded = new List<string>();
        int running = 0;
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_aboveSince.Length != stats.Count)
            {
                _aboveSince = new long?[stats.Count];
            }
            for (int i = 0; i < stats.Count; i++)
            {
                string state = $"{_pool.Name}-{i}";
                if (stats[i] is not { } s)
                {
                    replaced.Add(state);
                    data[$"{state}.running"] = false;
                    _aboveSince[i] = null;
                    continue;
                }
                running++;
                data[$"{state}.running"] = true;
                data[$"{state}.queued"] = s.Queued;
                if (s.Queued <= _options.QueueThreshold)
                {
                    _aboveSince[i] = null;
                    continue;
                }
                _aboveSince[i] ??= now;
                if (_time.GetElapsedTime(_aboveSince[i]!.Value, now) >= _options.DegradedAfter)
                {
                    crowded.Add($"{state} ({s.Queued} queued)");
                }
            }
        }
        data["running"] = running;
        if (running == 0)
        {
            return new HealthCheckResult(failureStatus, $"Lua pool {_pool.Name}: no state can take calls (0 of {stats.Count} running).", data: data);
        }
        if (replaced.Count > 0 || crowded.Count > 0)
        {
            var why = new List<string>();
            if (replaced.Count > 0)
            {
                why.Add($"being replaced: {string.Join(", ", replaced)}");
            }
            if (crowded.Count > 0)
            {
                why.Add($"queue above {_options.QueueThreshold} for {_options.DegradedAfter.TotalSeconds:0.###}s or more: {string.Join(", ", crowded)}");
            }
            return HealthCheckResult.Degraded($"Lua pool {_pool.Name}: {string.Join("; ", why)}.", data: data);
        }
        return HealthCheckResult.Healthy($"Lua pool {_pool.Name}: {running} of {stats.Count} states running.", data);
    }
}

/// <summary>The Akka.Hosting face of a pool's check: finds the pool by name once it started (Unhealthy before).</summary>
internal sealed class LuaPoolAkkaHealthCheck(string pool) : IAkkaHealthCheck
{
    private LuaPoolHealthCheck? _check;

    public Task<HealthCheckResult> CheckHealthAsync(AkkaHealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failure = context.Registration?.FailureStatus ?? HealthStatus.Unhealthy;
        if (Volatile.Read(ref _check) is not { } check)
        {
            var pools = LuaPools.For(context.ActorSystem);
            if (!pools.TryGet(pool, out var started, out var options))
            {
                return Task.FromResult(new HealthCheckResult(failure, $"Lua pool {pool} has not started."));
            }
            check = new LuaPoolHealthCheck(started, options);
            check = Interlocked.CompareExchange(ref _check, check, null) ?? check;
        }
        return Task.FromResult(check.Check(failure));
    }
}
