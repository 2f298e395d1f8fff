using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using DarkSideSync.Hosting.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DarkSideSync.Hosting;

/// <summary>
/// Makes the pools that <c>WithLuaPool</c> starts injectable. Akka.Hosting's builder cannot add
/// services (it runs once the container is built), so this is a call of its own, beside
/// <c>AddAkka</c>; it takes no names: any pool of the ActorSystem is found by its name.
/// </summary>
public static class LuaPoolServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="LuaPools"/>, <see cref="ILuaPool"/> keyed by pool name
    /// (<c>[FromKeyedServices("pricing")] ILuaPool pricing</c>) and, for a service with one pool,
    /// <see cref="ILuaPool"/> itself. Resolving a pool before the Akka hosted service started it
    /// fails with a message saying so (handlers run after it; hosted services await
    /// <see cref="LuaPools.GetAsync"/>). The container never disposes a pool: CoordinatedShutdown
    /// stops it. Calling this again changes nothing.
    /// </summary>
    public static IServiceCollection AddLuaPools(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(static sp => LuaPools.For(sp.GetRequiredService<ActorSystem>()));
        services.TryAddKeyedSingleton<ILuaPool>(KeyedService.AnyKey, static (sp, key) =>
            new LuaPoolHandle(sp.GetRequiredService<LuaPools>().Get(key as string
                ?? throw new InvalidOperationException($"A Lua pool is keyed by its name (a string), not by {key?.GetType().Name ?? "null"}."))));
        services.TryAddSingleton<ILuaPool>(static sp =>
        {
            var pools = sp.GetRequiredService<LuaPools>();
            var names = pools.Names;
            return names.Count == 1
                ? new LuaPoolHandle(pools.Get(names.First()))
                : throw new InvalidOperationException(names.Count == 0
                    ? "No Lua pool has started: add one with builder.WithLuaPool(...) in AddAkka."
                    : $"There are {names.Count} Lua pools ({string.Join(", ", names.Order(StringComparer.Ordinal))}): inject one by name, [FromKeyedServices(\"name\")] ILuaPool.");
        });
        return services;
    }
}
