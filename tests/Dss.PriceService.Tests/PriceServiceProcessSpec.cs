using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;

namespace DarkSideSync.PriceService.Tests;

/// <summary>
/// The real process (<c>dotnet Dss.PriceService.dll</c>, the sample's own build) stopped by a
/// real signal while requests are in flight: every in-flight request gets its Lua answer, the
/// host stops before the pool, which stops before the ActorSystem, and the process exits 0.
/// </summary>
public sealed partial class PriceServiceProcessSpec
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>The sample's build output beside this test's (same configuration).</summary>
    private static string ServiceDll()
    {
        var bin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = bin.Name, configuration = bin.Parent!.Name;
        var root = bin.Parent!.Parent!.Parent!.Parent!.Parent!.FullName; // tests/Dss.PriceService.Tests/bin/<configuration>/<framework>
        string dll = Path.Combine(root, "samples", "Dss.PriceService", "bin", configuration, framework, "Dss.PriceService.dll");
        Assert.True(File.Exists(dll), $"the sample is not built: {dll}");
        return dll;
    }

    [Theory]
    [InlineData(15)] // SIGTERM
    [InlineData(2)]  // SIGINT, Ctrl-C
    public async Task A_signal_with_requests_in_flight_answers_them_all_then_stops_the_pool_and_exits_0(int signal)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The rate service answers in 1.5 s, so /quote requests are in flight when the signal comes.
        foreach (string argument in new[] { ServiceDll(), "--urls", "http://127.0.0.1:0", "--PriceService:RateLatency=00:00:01.500" })
        {
            start.ArgumentList.Add(argument);
        }
        var output = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        var drainSeen = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
            {
                return;
            }
            output.Enqueue(line);
            if (line.Contains("Draining Lua pool pricing", StringComparison.Ordinal))
            {
                drainSeen.TrySetResult(clock.Elapsed);
            }
            const string Prefix = "Price service listening on ";
            if (line.StartsWith(Prefix, StringComparison.Ordinal))
            {
                listening.TrySetResult(line[Prefix.Length..].Trim());
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.Enqueue("stderr: " + line);
            }
        };
        Assert.True(process.Start());
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            string url = await listening.Task.WaitAsync(Patience);
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = Patience };
            Assert.Equal("1.50", await http.GetStringAsync(new Uri("/price?item=apple&qty=3", UriKind.Relative)));

            var inFlight = Enumerable.Range(0, 8).Select(async _ =>
            {
                using var response = await http.GetAsync(new Uri("/quote?item=apple&qty=3&currency=EUR", UriKind.Relative));
                return (response.StatusCode, Body: await response.Content.ReadAsStringAsync(), At: clock.Elapsed);
            }).ToArray();
            // On the thread pool, off xunit's synchronization context, whose queue may hold a continuation back.
            var signalled = await Task.Run(async () =>
            {
                await Task.Delay(300);
                var at = clock.Elapsed;
                Assert.Equal(0, Kill(process.Id, signal));
                return at;
            });
            // Kestrel stopped accepting at once: a new connection is refused, not let in to meet a stopped pool (503).
            await Task.Delay(200);
            using var late = new HttpClient { BaseAddress = new Uri(url), Timeout = Patience };
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => late.GetAsync(new Uri("/price?item=apple&qty=3", UriKind.Relative)));
            Assert.Equal(System.Net.Sockets.SocketError.ConnectionRefused, (refused.InnerException as System.Net.Sockets.SocketException)?.SocketErrorCode);

            var answers = await Task.WhenAll(inFlight).WaitAsync(Patience);
            using var exit = new CancellationTokenSource(Patience);
            await process.WaitForExitAsync(exit.Token);
            process.WaitForExit(); // the output's last lines

            string log = string.Join('\n', output);
            Assert.All(answers, a =>
            {
                Assert.Equal((HttpStatusCode.OK, "1.38"), (a.StatusCode, a.Body));
                Assert.True(a.At > signalled, $"an answer came at {a.At}, before the signal at {signalled}: the request was not in flight");
            });
            Assert.Equal(0, process.ExitCode);
            // The pool began to drain once Kestrel had answered everything (Akka's own signal hook would start it at the signal).
            var lastAnswer = answers.Max(a => a.At);
            var drainStarted = await drainSeen.Task.WaitAsync(Patience);
            Assert.True(drainStarted > lastAnswer - TimeSpan.FromMilliseconds(100),
                $"the pool began to drain at {drainStarted}, before the last answer at {lastAnswer} (signal at {signalled})");
            int stopping = log.IndexOf("Application is shutting down", StringComparison.Ordinal);
            int draining = log.IndexOf("Draining Lua pool pricing", StringComparison.Ordinal);
            int stopped = log.IndexOf("Lua pool pricing stopped", StringComparison.Ordinal);
            Assert.True(stopping >= 0 && stopping < draining && draining < stopped, $"the stop order is wrong:\n{log}");
            Assert.DoesNotContain("UtilityUnregistered", log, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
