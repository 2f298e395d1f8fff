namespace DarkSideSync.PriceService;

/// <summary>
/// The currency-rate service the Lua rules call (<c>rates.lookup</c>): a stand-in for a remote
/// lookup, so it awaits (<c>PriceService:RateLatency</c>, 1 ms by default) before it answers.
/// </summary>
internal sealed class CurrencyRates(TimeSpan latency)
{
    // Rates from USD, the currency of the price list.
    private static readonly Dictionary<string, double> FromUsd = new(StringComparer.Ordinal)
    {
        ["USD"] = 1.0,
        ["EUR"] = 0.92,
        ["GBP"] = 0.79,
        ["JPY"] = 151.0,
    };

    /// <summary>The rate from USD to <paramref name="currency"/> (ISO code, upper case), or null when there is none.</summary>
    public async Task<double?> LookupAsync(string currency, CancellationToken cancellationToken)
    {
        await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
        return FromUsd.TryGetValue(currency, out double rate) ? rate : null;
    }
}
