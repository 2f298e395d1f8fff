using Akka.Hosting;
using DarkSideSync.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace DarkSideSync.PriceService;

/// <summary>The service, put together: a Lua pool in Akka.Hosting, the endpoints, /health.</summary>
internal static class PriceServiceApp
{
    /// <summary>
    /// Builds the service. Configuration as any ASP.NET Core app: appsettings.json beside the
    /// executable (the content root), environment variables, then the command line
    /// (<c>--urls</c>, <c>--DarkSideSync:Pools:pricing:Size=4</c>); <paramref name="configure"/> lets
    /// tests and benchmarks add to it.
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder);
        var latency = builder.Configuration.GetValue("PriceService:RateLatency", TimeSpan.FromMilliseconds(1));
        builder.Services.AddSingleton(new CurrencyRates(latency));
        builder.Services.AddHealthChecks();
        builder.Services.AddLuaPools();
        builder.Services.AddAkka("price-service", (akka, sp) => akka
            .ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            })
            .WithLuaPool(PriceEndpoints.Pool, builder.Configuration.GetSection("DarkSideSync:Pools:pricing"), (options, services) =>
                options.State.Exports.Add("rates.lookup", services.GetRequiredService<CurrencyRates>().LookupAsync)));

        var app = builder.Build();
        PriceEndpoints.Map(app);
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = HealthReportWriter.WriteAsync });
        return app;
    }
}
