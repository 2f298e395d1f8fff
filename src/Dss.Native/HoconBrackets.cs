using Akka.Configuration;

namespace DarkSideSync.Native;

/// <summary>
/// Akka's HOCON parser accepts a file that ends inside an object or an array
/// (<c>darksidesync { notification = coalesced</c> with no <c>}</c>) and applies what it read.
/// A truncated or mistyped configuration must fail instead, so this checks what the parser
/// does not: every <c>{</c> and <c>[</c> is closed, in order. HOCON allows braces and brackets
/// only as structure (or inside quoted strings and comments, which are skipped; a
/// substitution's <c>${...}</c> is balanced like the rest).
/// </summary>
internal static class HoconBrackets
{
    /// <exception cref="ConfigurationException">A bracket is unclosed or closes nothing; the message gives its line.</exception>
    public static void Check(string text)
    {
        var open = new Stack<(char Bracket, int Line)>();
        int line = 1;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '\n':
                    line++;
                    break;
                case '#':
                case '/' when At(text, i, "//"):
                    i = text.IndexOf('\n', i) is var end and >= 0 ? end - 1 : text.Length;
                    break;
                case '"':
                    i = SkipString(text, i, ref line);
                    break;
                case '{' or '[':
                    open.Push((c, line));
                    break;
                case '}' or ']':
                    char expected = c == '}' ? '{' : '[';
                    if (open.Count == 0)
                    {
                        throw new ConfigurationException($"line {line}: '{c}' closes nothing.");
                    }
                    var (bracket, openedAt) = open.Pop();
                    if (bracket != expected)
                    {
                        throw new ConfigurationException($"line {line}: '{c}' cannot close the '{bracket}' of line {openedAt}.");
                    }
                    break;
            }
        }
        if (open.Count > 0)
        {
            var (bracket, openedAt) = open.Peek();
            throw new ConfigurationException($"line {openedAt}: '{bracket}' is never closed.");
        }
    }

    private static bool At(string text, int i, string token) => string.CompareOrdinal(text, i, token, 0, token.Length) == 0;

    // From the opening quote at i; returns the index of the closing quote (or the end).
    private static int SkipString(string text, int i, ref int line)
    {
        if (At(text, i, "\"\"\""))
        {
            int end = text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
            int last = end < 0 ? text.Length - 1 : end + 2;
            while (last + 1 < text.Length && text[last + 1] == '"')
            {
                last++; // """say "hi"""" ends with the last of its quotes
            }
            line += text.AsSpan(i, last - i + 1).Count('\n');
            return last;
        }
        for (i++; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
            }
            else if (text[i] == '"' || text[i] == '\n')
            {
                line += text[i] == '\n' ? 1 : 0;
                return i;
            }
        }
        return i;
    }
}
