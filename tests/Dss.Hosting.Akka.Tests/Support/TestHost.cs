using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DarkSideSync.Hosting.Akka.Tests.Support;

/// <summary>A real generic host with Akka.Hosting, started and stopped within bounds.</summary>
public static class TestHost
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>Builds a host: <paramref name="akka"/> configures the ActorSystem, <paramref name="services"/> the rest.</summary>
    public static IHost Build(Action<AkkaConfigurationBuilder, IServiceProvider> akka,
        Action<IServiceCollection>? services = null, IDictionary<string, string?>? settings = null, string? contentRoot = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = contentRoot ?? AppContext.BaseDirectory,
            DisableDefaults = true,
        });
        builder.Logging.SetMinimumLevel(Environment.GetEnvironmentVariable("DSS_TEST_LOG") == "1" ? LogLevel.Debug : LogLevel.Warning); builder.Logging.AddSimpleConsole();
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }
        builder.Services.AddLuaPools();
        services?.Invoke(builder.Services);
        builder.Services.AddAkka("test-" + Guid.NewGuid().ToString("N")[..8], akka);
        return builder.Build();
    }

    /// <summary>Starts <paramref name="host"/>; a start that takes longer than <see cref="Patience"/> fails.</summary>
    public static async Task<IHost> StartBoundedAsync(this IHost host)
    {
        using var timeout = new CancellationTokenSource(Patience);
        await host.StartAsync(timeout.Token).WaitAsync(Patience);
        return host;
    }

    /// <summary>Stops and disposes <paramref name="host"/>, bounded.</summary>
    public static async Task StopBoundedAsync(this IHost host)
    {
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            await host.StopAsync(timeout.Token).WaitAsync(Patience);
        }
        finally
        {
            host.Dispose();
        }
    }
}
