using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// The loop integrations published beside dss.lua (src/Dss.Native/dss/: dss.luv, dss.cqueues,
/// dss.socket for socket.select and Copas), woken by <c>darksidesync.getfd()</c>, in stock
/// <c>lua5.4</c> with Debian's lua-luv, lua-cqueues, lua-socket and lua-copas (1.2.0,
/// "Copas 1.1.7", from its 5.2 folder). Each loop takes 1,000,000 deliveries from 4 dss_producer
/// pthreads and counts every item exactly once and in order per thread; a loop that stops
/// making progress for 10 s while items are missing gives up and reports what is missing
/// (so a lost wake-up fails the spec instead of hanging it). Then what each loop adds: luv
/// timers between batches, cqueues coroutines per callback, a Copas server beside DSS, and
/// stop()/start() of DSS under a running watcher.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class LoopIntegrationSpec(NativeModuleFixture module)
{
    private const string NotStarted = "DSS was not started yet, or already stopped";

    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(120) };

    /// <summary>
    /// darksidesync, socket, dss_producer with producer <c>u</c>: its callback counts into
    /// <c>received</c> (and <c>out_of_order</c>: a sequence number that is not its thread's
    /// last plus one, so a duplicate or a gap counts) and calls the global <c>on_item</c> if
    /// set; <c>stalled()</c>: no callback for STALL_S; <c>report(name)</c> joins the producer
    /// and prints the counts. THREADS x ITEMS from <c>arg</c> (default 4 x 250000).
    /// </summary>
    private const string Prelude = """
        local darksidesync = require "darksidesync"
        local socket = require "socket"
        local producer = require "dss_producer"
        local THREADS = math.tointeger(tonumber(arg[1])) or 4
        local ITEMS = math.tointeger(tonumber(arg[2])) or 250000
        local TOTAL = THREADS * ITEMS
        local STALL_S = 10
        received, out_of_order = 0, 0
        local last = {}
        local u = assert(producer.new{ callback = function(pid, seq)
          received = received + 1
          if seq ~= (last[pid] or 0) + 1 then out_of_order = out_of_order + 1 end
          last[pid] = seq
          if on_item then on_item(pid, seq) end
        end })
        local progress, progress_at = -1, socket.gettime()
        local function stalled()
          if received ~= progress then
            progress, progress_at = received, socket.gettime()
            return false
          end
          return socket.gettime() - progress_at > STALL_S
        end
        local function report(name)
          u:join()
          local s = u:stats()
          print(name, received, "of", TOTAL, "left", darksidesync.queuesize(), "out of order", out_of_order,
                "fifo", s.fifo_violations, "refused", s.deliveries - (s.codes.SUCCESS or 0))
        end

        """;

    private static string Counted(string name) => $"{name}\t1000000\tof\t1000000\tleft\t0\tout of order\t0\tfifo\t0\trefused\t0";

    // ---- a million deliveries from four pthreads, through each loop ----

    [LuaLoopFact("luv")]
    public async Task A_luv_loop_must_run_a_million_deliveries_from_four_pthreads_each_once()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            local uv = require "luv"
            local watcher = require("dss.luv").start()
            function on_item() if received == TOTAL then watcher:stop() end end
            local guard = uv.new_timer()
            guard:start(200, 200, function()
              if received == TOTAL or stalled() then guard:close(); watcher:stop() end
            end)
            u:start{ threads = THREADS, items = ITEMS }
            uv.run()                      -- returns once neither the watcher nor the guard is active
            report("luv")
            io.stderr:write("wake-ups: ", watcher.wakeups, "\n")
            """);

        Assert.Equal(Counted("luv"), result.AssertEnded("a million deliveries through luv").Lines.Single());
    }

    [LuaLoopFact("cqueues")]
    public async Task A_cqueues_loop_must_run_a_million_deliveries_from_four_pthreads_each_once()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            local cqueues = require "cqueues"
            local cq = cqueues.new()
            local watcher = require("dss.cqueues").wrap(cq)
            function on_item() if received == TOTAL then watcher:stop() end end
            cq:wrap(function()            -- the guard
              while received < TOTAL and not stalled() do cqueues.sleep(0.2) end
              watcher:stop()
            end)
            u:start{ threads = THREADS, items = ITEMS }
            assert(cq:loop())             -- returns once both coroutines ended
            report("cqueues")
            io.stderr:write("wake-ups: ", watcher.wakeups, "\n")
            """);

        Assert.Equal(Counted("cqueues"), result.AssertEnded("a million deliveries through cqueues").Lines.Single());
    }

    [Fact]
    public async Task A_socket_select_loop_must_run_a_million_deliveries_from_four_pthreads_each_once()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            local waker = require("dss.socket").new()
            local watched = { waker }
            u:start{ threads = THREADS, items = ITEMS }
            while received < TOTAL and not stalled() do
              local readable = socket.select(watched, nil, 1)
              if readable[waker] then waker:dispatch() end
            end
            report("socket.select")
            io.stderr:write("wake-ups: ", waker.wakeups, "\n")
            """);

        Assert.Equal(Counted("socket.select"), result.AssertEnded("a million deliveries through socket.select").Lines.Single());
    }

    [LuaLoopFact("copas")]
    public async Task A_Copas_loop_must_run_a_million_deliveries_from_four_pthreads_each_once()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(LuaLoops.RequireCopas + Prelude + """
            local waker = require("dss.socket").addthread(copas)
            u:start{ threads = THREADS, items = ITEMS }
            while received < TOTAL and not stalled() do copas.step(1) end
            waker:close()
            report("copas")
            io.stderr:write(copas._VERSION, ", wake-ups: ", waker.wakeups, "\n")
            """);

        Assert.Equal(Counted("copas"), result.AssertEnded("a million deliveries through Copas").Lines.Single());
    }

    // ---- one batch per wake-up: what is left wakes the loop again ----

    private const string CappedBatches = """
        -- max = 100 per wake-up: level-triggering must bring each loop back for the rest.
        io.stderr:write("wake-ups: ", wakeups(), "\n")
        print("wake-ups >= 1000", wakeups() >= 1000)
        """;

    [LuaLoopFact("luv")]
    public async Task A_luv_watcher_with_capped_batches_must_come_back_for_what_is_left()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            local uv = require "luv"
            local watcher = require("dss.luv").start{ max = 100 }
            local guard = uv.new_timer()
            guard:start(50, 50, function()
              if received == TOTAL or stalled() then guard:close(); watcher:stop() end
            end)
            u:start{ threads = THREADS, items = ITEMS }
            uv.run()
            report("luv")
            function wakeups() return watcher.wakeups end
            """ + CappedBatches, "4", "25000");

        Assert.Equal(
            ["luv\t100000\tof\t100000\tleft\t0\tout of order\t0\tfifo\t0\trefused\t0", "wake-ups >= 1000\ttrue"],
            result.AssertEnded("luv, 100 items per wake-up").Lines);
    }

    [LuaLoopFact("cqueues")]
    public async Task A_cqueues_watcher_with_capped_batches_must_come_back_for_what_is_left()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            local cqueues = require "cqueues"
            local cq = cqueues.new()
            local watcher = require("dss.cqueues").wrap(cq, { max = 100 })
            cq:wrap(function()
              while received < TOTAL and not stalled() do cqueues.sleep(0.05) end
              watcher:stop()
            end)
            u:start{ threads = THREADS, items = ITEMS }
            assert(cq:loop())
            report("cqueues")
            function wakeups() return watcher.wakeups end
            """ + CappedBatches, "4", "25000");

        Assert.Equal(
            ["cqueues\t100000\tof\t100000\tleft\t0\tout of order\t0\tfifo\t0\trefused\t0", "wake-ups >= 1000\ttrue"],
            result.AssertEnded("cqueues, 100 items per wake-up").Lines);
    }

    [LuaLoopFact("copas")]
    public async Task A_Copas_thread_with_capped_batches_must_come_back_for_what_is_left()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(LuaLoops.RequireCopas + Prelude + """
            local waker = require("dss.socket").addthread(copas, { max = 100 })
            u:start{ threads = THREADS, items = ITEMS }
            while received < TOTAL and not stalled() do copas.step(1) end
            waker:close()
            report("copas")
            function wakeups() return waker.wakeups end
            """ + CappedBatches, "4", "25000");

        Assert.Equal(
            ["copas\t100000\tof\t100000\tleft\t0\tout of order\t0\tfifo\t0\trefused\t0", "wake-ups >= 1000\ttrue"],
            result.AssertEnded("Copas, 100 items per wake-up").Lines);
    }

    // ---- what each loop adds ----

    [LuaLoopFact("luv")]
    public async Task A_luv_timer_and_DSS_deliveries_must_interleave_in_one_uv_run()
    {
        await CSampleBuild.AddToAsync(_lua);

        // Paced producers spread 100,000 items over about a second; a 1 ms timer counts its
        // ticks that came between two callbacks, callbacks count the distinct ticks they saw,
        // and one callback starts a luv timer of its own.
        var result = await _lua.RunAsync(Prelude + """
            local uv = require "luv"
            local watcher = require("dss.luv").start{ max = 1000 }
            local ticks, ticks_amid = 0, 0
            local timer = uv.new_timer()
            timer:start(1, 1, function()
              ticks = ticks + 1
              if received > 0 and received < TOTAL then ticks_amid = ticks_amid + 1 end
              if received == TOTAL or stalled() then timer:close(); watcher:stop() end
            end)
            local seen_ticks, last_tick, fired = 0, -1, false
            function on_item()
              if ticks ~= last_tick then seen_ticks, last_tick = seen_ticks + 1, ticks end
              if received == 5000 then
                local t = uv.new_timer()
                t:start(0, 0, function() fired = received; t:close() end)
              end
            end
            u:start{ threads = THREADS, items = ITEMS, pace_us = 40 }
            uv.run()
            report("luv")
            io.stderr:write(("ticks %d, of them amid deliveries %d; callbacks saw %d ticks; wake-ups %d\n")
              :format(ticks, ticks_amid, seen_ticks, watcher.wakeups))
            print("ticks amid deliveries", ticks_amid >= 20, "callbacks across ticks", seen_ticks >= 20,
                  "timer from a callback", fired and fired >= 5000)
            """, "4", "25000");

        Assert.Equal(
            [
                "luv\t100000\tof\t100000\tleft\t0\tout of order\t0\tfifo\t0\trefused\t0",
                "ticks amid deliveries\ttrue\tcallbacks across ticks\ttrue\ttimer from a callback\ttrue",
            ],
            result.AssertEnded("a luv timer beside DSS").Lines);
    }

    [LuaLoopFact("cqueues")]
    public async Task Cqueues_callbacks_must_be_able_to_start_a_coroutine_each()
    {
        await CSampleBuild.AddToAsync(_lua);

        // Each callback wraps a coroutine that sleeps (yields to the controller) before it
        // counts; a callback itself must not yield (it runs inside dispatch, a C function).
        var result = await _lua.RunAsync(Prelude + """
            local cqueues = require "cqueues"
            local cq = cqueues.new()
            local watcher = require("dss.cqueues").wrap(cq)
            local finished, alive, most_alive = 0, 0, 0
            function on_item(pid, seq)
              alive = alive + 1
              if alive > most_alive then most_alive = alive end
              cq:wrap(function()
                cqueues.sleep(0.001 * (seq % 3))
                alive, finished = alive - 1, finished + 1
              end)
            end
            cq:wrap(function()
              while finished < TOTAL and not stalled() do cqueues.sleep(0.1) end
              watcher:stop()
            end)
            u:start{ threads = THREADS, items = ITEMS }
            assert(cq:loop())
            report("cqueues")
            io.stderr:write("most coroutines alive at once: ", most_alive, "\n")
            print("coroutines finished", finished, "more than one at once", most_alive > 1)
            """, "4", "25000");

        Assert.Equal(
            ["cqueues\t100000\tof\t100000\tleft\t0\tout of order\t0\tfifo\t0\trefused\t0", "coroutines finished\t100000\tmore than one at once\ttrue"],
            result.AssertEnded("a coroutine per callback").Lines);
    }

    [LuaLoopFact("cqueues")]
    public async Task A_cqueues_watcher_in_spawn_mode_must_let_callbacks_yield_and_answer_blocking_deliveries_later()
    {
        await CSampleBuild.AddToAsync(_lua);

        // spawn = true: every callback runs in a coroutine of its own, so it may sleep. Four
        // pthreads wait on blocking deliveries that coroutines answer after 2 ms each.
        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            local cqueues = require "cqueues"
            local producer = require "dss_producer"
            local cq = cqueues.new()
            local answered, asleep, most_asleep, errors = 0, 0, 0, {}
            local u = assert(producer.new{ callback = function(reply, pid, seq)
              asleep = asleep + 1
              if asleep > most_asleep then most_asleep = asleep end
              cqueues.sleep(0.002)
              asleep = asleep - 1
              reply(seq)
              answered = answered + 1
            end })
            local watcher = require("dss.cqueues").wrap(cq, { spawn = true, errorhandler = function(e) errors[#errors + 1] = e end })
            local deadline = cqueues.monotime() + 30
            cq:wrap(function()
              while answered < 800 and cqueues.monotime() < deadline do cqueues.sleep(0.05) end
              watcher:stop()
            end)
            u:start{ threads = 4, items = 200, blocking = true }
            assert(cq:loop())
            u:join()
            local s = u:stats()
            print("answered", answered, "outcomes", s.outcomes.answered, "left", darksidesync.queuesize(),
                  "errors", #errors, "asleep together", most_asleep > 1)
            """);

        Assert.Equal("answered\t800\toutcomes\t800\tleft\t0\terrors\t0\tasleep together\ttrue",
            result.AssertEnded("spawn mode with blocking deliveries").Lines.Single());
    }

    [LuaLoopFact("cqueues")]
    public async Task A_cqueues_callback_that_yields_must_reach_the_error_handler_and_the_watcher_go_on()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Prelude + """
            local cqueues = require "cqueues"
            local cq = cqueues.new()
            local errors = {}
            function on_item(pid, seq) if seq == 2 then cqueues.sleep(0.01) end end
            local watcher = require("dss.cqueues").wrap(cq, function(e) errors[#errors + 1] = tostring(e) end)
            u:deliver(3)
            while received < 3 and not stalled() do assert(cq:step(0.1)) end
            watcher:stop()
            assert(cq:loop())
            print(received, #errors, errors[1])
            """);

        Assert.Equal("3\t1\tattempt to yield across a C-call boundary", result.AssertEnded("a callback that yields").Lines.Single());
    }

    [LuaLoopFact("copas")]
    public async Task A_Copas_thread_must_dispatch_deliveries_beside_a_Copas_UDP_server()
    {
        await CSampleBuild.AddToAsync(_lua);

        // Every 1000th callback sends a datagram to a UDP server that Copas serves in the same
        // loop; the server's thread must get every one of them while deliveries keep coming.
        var result = await _lua.RunAsync(LuaLoops.RequireCopas + Prelude + """
            local server = assert(socket.udp())
            assert(server:setsockname("127.0.0.1", 0))
            local _, port = server:getsockname()
            local client = assert(socket.udp())
            local sent, got, got_amid = 0, 0, 0
            copas.addserver(server, function(skt)
              skt = copas.wrap(skt)
              while true do
                if skt:receive() then
                  got = got + 1
                  if received < TOTAL then got_amid = got_amid + 1 end
                end
              end
            end)
            function on_item()
              if received % 1000 == 0 then
                sent = sent + 1
                client:sendto("ping " .. sent, "127.0.0.1", port)
              end
            end
            local waker = require("dss.socket").addthread(copas, { max = 1000 })
            u:start{ threads = THREADS, items = ITEMS, pace_us = 20 }
            while (received < TOTAL or got < sent) and not stalled() do copas.step(1) end
            waker:close()
            report("copas")
            io.stderr:write(("datagrams sent %d, served %d (%d while deliveries came), DSS batches %d\n")
              :format(sent, got, got_amid, waker.wakeups))
            print("served", got, "of", sent, "some amid deliveries", got_amid > 0)
            """, "4", "25000");

        Assert.Equal(
            ["copas\t100000\tof\t100000\tleft\t0\tout of order\t0\tfifo\t0\trefused\t0", "served\t100\tof\t100\tsome amid deliveries\ttrue"],
            result.AssertEnded("Copas with a UDP server beside DSS").Lines);
    }

    // ---- stop() and start() of DSS under a running watcher ----

    /// <summary>
    /// The scenario, for a loop whose script defines <c>step()</c> (one turn of the loop, at
    /// most ~10 ms), <c>restart()</c> (what a user does after darksidesync.start() when the
    /// watcher stopped itself) and <c>wakeups()</c>: items before a stop, items after a
    /// start (the watcher untouched: same fd), then a C decode that stops DSS inside the
    /// watcher's own dispatch, 300 ms of loop while DSS is stopped (the watcher must not spin),
    /// a start, restart(), and items again.
    /// </summary>
    private const string StopStartScenario = """
        local fu = require "faulty_utility"
        local function run_until(n)
          local deadline = socket.gettime() + 10
          while received < n and socket.gettime() < deadline do step() end
          return received
        end
        u:deliver(10)
        print("before stop", run_until(10))
        darksidesync.stop()
        darksidesync.start()
        local u2 = assert(producer.new{ callback = function() received = received + 1 end })
        u2:deliver(10)
        print("after start", run_until(20))
        local f = assert(fu.new{ callback = function() end, stopper = darksidesync.stop })
        f:deliver("stop")
        f:deliver("ok")
        local before = wakeups()
        local t0 = socket.gettime()
        while socket.gettime() - t0 < 0.3 do step() end
        local stopped = not pcall(darksidesync.queuesize)
        print("stopped by a decode", stopped, "quiet while stopped", wakeups() - before < 50)
        io.stderr:write("wake-ups while stopped: ", wakeups() - before, "\n")
        darksidesync.start()
        restart()
        local u3 = assert(producer.new{ callback = function() received = received + 1 end })
        u3:deliver(10)
        print("after the second start", run_until(30))
        """;

    private static readonly string[] StopStartLines =
        ["before stop\t10", "after start\t20", "stopped by a decode\ttrue\tquiet while stopped\ttrue", "after the second start\t30"];

    private async Task<ProcessResult> RunStopStartAsync(string loop)
    {
        await CSampleBuild.AddToAsync(_lua);
        await _lua.AddFaultyUtilityAsync();
        // dss_producer's callback of the prelude counts; the scenario's new producers count too.
        return await _lua.RunAsync(Prelude + loop + StopStartScenario);
    }

    [LuaLoopFact("luv")]
    public async Task A_luv_watcher_must_sleep_through_stop_and_start_and_stop_itself_when_woken_while_DSS_is_stopped()
    {
        var result = await RunStopStartAsync("""
            local uv = require "luv"
            local watcher = require("dss.luv").start()
            local heartbeat = uv.new_timer()
            heartbeat:start(10, 10, function() end)
            function step() uv.run("once") end
            function restart() watcher:start() end
            function wakeups() return watcher.wakeups end

            """);

        Assert.Equal(StopStartLines, result.AssertEnded("luv across stop and start").Lines);
    }

    [LuaLoopFact("cqueues")]
    public async Task A_cqueues_watcher_must_sleep_through_stop_and_start_and_end_itself_when_woken_while_DSS_is_stopped()
    {
        var result = await RunStopStartAsync("""
            local cqueues = require "cqueues"
            local cq = cqueues.new()
            local watcher = require("dss.cqueues").wrap(cq)
            function step() assert(cq:step(0.01)) end
            function restart() watcher:start() end
            function wakeups() return watcher.wakeups end

            """);

        Assert.Equal(StopStartLines, result.AssertEnded("cqueues across stop and start").Lines);
    }

    [Fact]
    public async Task A_socket_select_waker_must_sleep_through_stop_and_start_and_report_a_stopped_DSS()
    {
        var result = await RunStopStartAsync("""
            local waker = require("dss.socket").new()
            local watched = { waker }
            function step()
              if socket.select(watched, nil, 0.01)[waker] and waker:dispatch() == nil then
                watched = {}             -- DSS stopped: stop selecting the waker until start()
              end
            end
            function restart() watched = { waker } end
            function wakeups() return waker.wakeups end

            """);

        Assert.Equal(StopStartLines, result.AssertEnded("socket.select across stop and start").Lines);
    }

    [LuaLoopFact("copas")]
    public async Task A_Copas_waker_must_sleep_through_stop_and_start_and_end_its_thread_when_woken_while_DSS_is_stopped()
    {
        var result = await RunStopStartAsync(LuaLoops.RequireCopas + """
            local dss_socket = require "dss.socket"
            local waker = dss_socket.addthread(copas)
            local earlier = 0 -- wake-ups of wakers whose thread ended
            function step() copas.step(0.01) end
            function restart()
              if waker.closed then   -- its thread ended when it found DSS stopped
                io.stderr:write("Copas thread ", coroutine.status(waker.thread), ": ", tostring(waker.closed), "\n")
                earlier = earlier + waker.wakeups
                waker = dss_socket.addthread(copas)
              end
            end
            function wakeups() return earlier + waker.wakeups end

            """);

        Assert.Equal(StopStartLines, result.AssertEnded("Copas across stop and start").Lines);
    }

    [Fact]
    public async Task The_loop_modules_must_raise_while_DSS_is_stopped_and_check_their_options()
    {
        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            local dss_socket = require "dss.socket"
            print(pcall(dss_socket.new, { max = 0 }))
            print(pcall(dss_socket.new, 42))
            darksidesync.stop()
            print(pcall(dss_socket.new))
            """);

        var lines = result.AssertEnded("dss.socket's arguments").Lines;
        Assert.StartsWith("false\t", lines[0]);
        Assert.Contains("field 'max' must be a positive integer", lines[0], StringComparison.Ordinal);
        Assert.Contains("(table, function or nil expected, got number)", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("false\t", lines[2]);
        Assert.EndsWith(NotStarted, lines[2], StringComparison.Ordinal);
    }
}
