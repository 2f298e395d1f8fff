using DarkSideSync.PriceService;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

// dotnet run --project samples/Dss.PriceService [--urls http://127.0.0.1:5081]
// Ctrl-C or SIGTERM: Kestrel stops accepting and answers what it has, then the Lua pool
// drains, then the ActorSystem stops; the process exits 0.
var app = PriceServiceApp.Build(args);
await app.StartAsync();
string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
Console.WriteLine($"Price service listening on {url}");
Console.WriteLine($"Try: curl '{url}/price?item=apple&qty=3'   (also /quote?item=pear&qty=10&currency=EUR, /health)");
await app.WaitForShutdownAsync();
