// Regenerates corpus.json, the strings tokenizer-parity.test.mjs feeds to both the C++
// tokenizer and js-tiktoken:  node tests/tokenizer/make_corpus.mjs
// Hand-picked cases aim at the pre-tokenizer's edges (contractions, whitespace runs and the
// \s+(?!\S) lookahead, Unicode classes, the special token); seeded random strings drawn from a
// pool of tricky characters cover their combinations. The output is committed, so the test
// never depends on this script's randomness.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const prose = [
  "Hello world",
  "Hello, world!",
  " Paris",
  "The cat sat on the mat.",
  "The quick brown fox jumps over the lazy dog.",
  "When Mary and John went to the store, John gave a drink to",
  "After John and Mary went to the store, Mary gave a bottle of milk to",
  "The Eiffel Tower is located in the city of",
  "In 1492, Columbus sailed the ocean blue.",
  "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness,",
  "Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse,",
  "To be, or not to be: that is the question.",
  "Mechanistic interpretability reverse-engineers neural networks into human-understandable algorithms.",
  "Induction heads copy tokens: A B ... A -> B.",
  "GPT-2 small has 12 layers, 12 heads, d_model = 768 and 124M parameters.",
  "antidisestablishmentarianism",
  "Pneumonoultramicroscopicsilicovolcanoconiosis is a long word.",
  "supercalifragilisticexpialidocious".repeat(4),
  "a",
  "A",
  "I",
  "ALL CAPS SENTENCE WITH SHOUTING!!!",
  "camelCaseIdentifier and snake_case_identifier and kebab-case-identifier",
  "MixedCASEwordsANDnumbers123abc456",
  "Dr. Smith, Ph.D., arrived at 5 p.m. (EST) on Jan. 3rd.",
  "\"Quoted speech,\" she said, 'and single quotes.'",
  "Semi-colons; colons: dashes - en – em — ellipsis… and so on",
  "“Curly double quotes” and ‘curly single quotes’",
];

const contractions = [
  "it's", "can't", "we're", "they've", "I'm", "you'll", "he'd", "don't", "won't", "shouldn't've",
  "I'm sure they'll say we'd've done it if you'd asked.",
  "IT'S", "CAN'T", "WE'RE", "THEY'VE", "I'M", "YOU'LL", "HE'D", "It'S", "Don'T",
  "it’s", "can’t", "we’re", "they’ve", "I’m", "you’ll", "he’d",
  "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'", "''", "'''", "'s'", "'re'", "'ll've",
  "'sup", "'tis", "'twas", "'em", "'Twas", "rock 'n' roll", "the '90s", "'90s kids",
  "O'Neil", "o'clock", "ma'am", "y'all", "Jones' house", "students' papers",
  "' s", "'  s", "''s", "x's", "1's", "!'s", " 's", "\t's", "é's", "日本's",
  "'S", "'T", "'RE", "'Ve", "'M", "'Ll", "'D", "'x", "'r", "'l", "'v",
];

const whitespace = [
  "", " ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n", "\r", "\v", "\f",
  " x", "  x", "   x", "x ", "x  ", "x   ", " x ", "  x  ", "a b", "a  b", "a   b", "a    b",
  "a\tb", "a\t\tb", "a \tb", "a\t b", "a \t b", "a\nb", "a\n\nb", "a \nb", "a\n b", "a\n\n b", "a \n \n b",
  "a\r\nb", "a\r\n\r\nb", "line one\r\nline two\r\n", "trailing newline\n", "trailing spaces   ",
  "   leading spaces", "\n\nleading newlines", "\t\tindented", "    four-space indent",
  "mixed \t \n \r\n whitespace \u00a0 run", "  \n  ", " \n", "\n ", " \t ", "\t \t",
  "nbsp\u00a0between", "nbsp \u00a0before", "\u00a0leading nbsp", "trailing nbsp\u00a0", "\u00a0\u00a0x", " \u00a0 x",
  "ideographic\u3000space", "\u3000\u3000x", "x\u3000", "en\u2002space em\u2003space thin\u2009space hair\u200aspace",
  "line\u2028separator", "para\u2029separator", "\u2028\u2029", "x\u2028\u2028y",
  "next line\u0085here", "\u0085", "x\u0085 y", " \u0085",
  "\ufeffBOM at start", "middle\ufeffBOM", "\ufeff", "\ufeff\ufeff", " \ufeffx", "x \ufeff y",
  "narrow\u202fnbsp", "medium\u205fmath space", "ogham\u1680space", "mongolian\u180evowel separator",
  "zero\u200bwidth\u200cnon\u200djoiner", "word\u2060joiner", "\u200b", " \u200b ",
  "tab\there", "vertical\vtab", "form\ffeed", "end with tab\t", "end with crlf\r\n",
  " ".repeat(40) + "x", "x" + " ".repeat(40), "\n".repeat(20), "\t".repeat(10) + "y",
  " \n \n \n ", "a\u00a0\u00a0 b", "a \u00a0\u00a0b", "a\u3000 b", "a \u3000b",
];

const numbers = [
  "2342+2017=21445", "0", "1", "12", "123", "1234", "12345", "123456789012345678901234567890",
  "3.14159265358979323846", "-42", "+7", "1e10", "6.022e23", "0x1F", "0b1010", "1,000,000", "1.000.000,00",
  "$19.99", "€20", "£5", "¥1000", "100%", "50/50", "24/7", "9:30am", "2024-01-15", "15.01.2024", "12:34:56.789",
  "+1 (555) 123-4567", "192.168.0.1", "::1", "v1.2.3-beta.4", "1st 2nd 3rd 4th", "x2 x10 x100",
  "a1b2c3", "abc123def", "123abc", "1 2 3 4 5", " 1 22 333 4444", "007", "  42  ",
  "٠١٢٣٤٥٦٧٨٩", "۱۲۳", "०१२३", "一二三", "１２３", "①②③", "⑴⑵", "Ⅰ Ⅱ Ⅲ Ⅳ Ⅻ ⅿ", "ⅰⅱⅲ", "x²+y³=z¹",
  "H₂O CO₂", "½ ⅓ ¼ ⅞", "3½ cups", "𝟏𝟐𝟑", "〇", "𒐀",
];

const code = [
  "def hello(name):\n    print(f\"Hello, {name}!\")\n    return None\n",
  "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}",
  "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }",
  "{\"key\": \"value\", \"list\": [1, 2, 3], \"nested\": {\"a\": null, \"b\": true}}",
  "const re = /^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)@example\\.com$/i;",
  "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC;",
  "<div class=\"container\"><p>Hello &amp; welcome</p></div>",
  "x = [i**2 for i in range(10) if i % 2 == 0]",
  "if (a && b || !c) { return a ? b : c; }",
  "    if x:\n        pass\n    else:\n        raise ValueError('bad')\n",
  "fn main() -> Result<(), Box<dyn Error>> { Ok(()) }",
  "$ git commit -m 'Fix bug #123' && git push origin main",
  "// comment\n/* block */\n# hash\n-- dash\n<!-- html -->",
  "a->b a=>b a==b a!=b a<=b a>=b a::b a...b a..b a**b a//b",
  "std::vector<std::pair<int, std::string>> v{{1, \"one\"}};",
  "lambda x: x + 1",
  "\tdef f(self, *args, **kwargs):\n\t\treturn super().f(*args, **kwargs)",
  "matrix[0][1] = matrix[1][0]; // swap",
  "print('it\\'s')",
  "@decorator\ndef g(): ...",
  "^[\\w.+-]+@[\\w-]+\\.[\\w.]+$",
  "(?<year>\\d{4})-(?<month>\\d{2})",
  "key: value\nlist:\n  - item1\n  - item2\n",
  "\\begin{equation} E = mc^2 \\end{equation}",
  "0xDEADBEEF & 0xFF | 1 << 8 >> 2 ^ ~0",
];

const web = [
  "https://www.example.com/path/to/page?query=1&other=two#section",
  "http://localhost:8080/api/v1/users/42",
  "ftp://files.example.org/pub/file.tar.gz",
  "mailto:someone@example.com",
  "john.doe+tag@sub.example.co.uk",
  "Visit https://huggingface.co/gpt2 or email support@openai.com.",
  "www.google.com",
  "@username #hashtag $TICKER",
  "C:\\Users\\Name\\Documents\\file.txt",
  "/usr/local/bin/python3",
  "~/.config/app/settings.json",
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
];

const emoji = [
  "🙂", "😀😃😄", "I ❤️ NY", "👍", "👍🏽", "👍🏿👍🏻", "👨‍👩‍👧‍👦", "👩‍💻", "🏳️‍🌈", "🏴‍☠️",
  "🇯🇵", "🇺🇸🇬🇧🇫🇷", "🇦", "1️⃣ 2️⃣ #️⃣", "©️ ®️ ™", "☃", "★☆", "✓ ✗", "→ ← ↑ ↓ ⇒",
  "emoji at end 🎉", "🎉 emoji at start", "mid🎉word", "🧑🏾‍🚀 astronaut", "🫠🫡🫶",
  "😀 😀  😀", "🐱‍👤", "♀️♂️", "🔥🔥🔥🔥🔥",
];

const scripts = [
  "日本語のテキスト", "東京タワーは高い。", "ひらがな カタカナ ｶﾀｶﾅ", "漢字とかなの混在テキストです。",
  "中文文本测试", "我爱北京天安门", "繁體中文測試", "한국어 텍스트", "안녕하세요 세계", "ᄀᄁᄂ",
  "مرحبا بالعالم", "العربية: ١٢٣", "ٱلسَّلَامُ عَلَيْكُمْ", "שלום עולם", "עִבְרִית",
  "नमस्ते दुनिया", "हिन्दी में पाठ", "ภาษาไทย", "สวัสดีครับ", "Ελληνικά κείμενο", "Привет, мир!",
  "Україна", "Ёжик", "Tiếng Việt có dấu", "Türkçe İıĞğŞş", "Ærøskøbing", "Straße", "ǅemal",
  "ﬁﬂ ligatures", "ሰላም ዓለም", "ქართული", "Հայերեն", "தமிழ்", "తెలుగు", "ಕನ್ನಡ", "മലയാളം",
  "বাংলা", "ગુજરાતી", "ਪੰਜਾਬੀ", "සිංහල", "မြန်မာ", "ខ្មែរ", "ລາວ", "བོད་ཡིག", "ᠮᠣᠩᠭᠣᠯ",
  "ᏣᎳᎩ", "ᐃᓄᒃᑎᑐᑦ", "ꦧꦱꦗꦮ", "𐌰𐌱𐌲 Gothic", "𓀀𓀁 hieroglyphs", "Ꭰ", "ⴰⵣⵓⵍ",
];

const marks = [
  "e\u0301", "cafe\u0301", "café", "n\u0303", "a\u0300\u0301\u0302\u0303",
  "Z̵̧̢̛̛̗̭̬͚̝̣̭̳̀̈́̒͆̒̌̀ͅa̴̢͙̗̝̝̓̈́̓̃͘l̸̢̗̞̝̘̈́̀̊̌̕g̶̡̛̘̮͎̮̈́͆o̵̧̗̝̍̓̀͠",
  "t̷h̷i̷s̷ ̷i̷s̷ ̷s̷t̷r̷u̷c̷k̷", "\u0301 leading combining", "x \u0301 y", "ก\u0e31", "क्‍ष",
  "\u0915\u094d\u0937", "Å vs Å", "ﾟ", "゙",
];

const math = [
  "𝐀𝐁𝐂 𝐚𝐛𝐜", "𝑥 + 𝑦 = 𝑧", "𝕏 𝕐 ℤ ℝ ℕ", "𝔄𝔅ℭ", "𝒜ℬ𝒞", "𝖆𝖇𝖈", "𝙰𝙱𝙲", "∀x∈ℝ: x²≥0",
  "∑_{i=1}^{n} i = n(n+1)/2", "∫₀^∞ e^{-x} dx = 1", "√2 ≈ 1.414", "π ≈ 3.14159", "∞ ≠ ∅",
  "α β γ δ ε", "ℵ₀", "ℏ ℓ ℘", "ª º", "µ vs μ", "Å Ω ℧", "ⓐⓑⓒ", "🄰🄱", "ᵃᵇᶜ ₐₑ",
];

const controls = [
  "\u0000", "a\u0000b", "\u0001\u0002\u0003", "bell\u0007", "back\bspace", "esc\u001b[31mred\u001b[0m",
  "\u007f", "del\u007fete", "\u0080\u0081\u009f", "\u00ad soft hyphen", "soft\u00adhyphen",
  "\u200e LRM \u200f RLM", "\u202a embed \u202c", "\u2066isolate\u2069", "\ue000 private use", "\uffff",
  "\ufffd replacement", "\ufff0", "\u{10ffff}", "\u{e0001}tag", "\u{f0000}", "\u034f",
];

const special = [
  "<|endoftext|>", "<|endoftext|><|endoftext|>", "a<|endoftext|>b", "Hello<|endoftext|>World",
  " <|endoftext|> ", "text  <|endoftext|>  more", "\n<|endoftext|>\n", "<|endoftext|", "|endoftext|>",
  "<|endoftext |>", "<|ENDOFTEXT|>", "<<|endoftext|>>", "<|endoftext|>x<|endoftext|>",
  "endoftext", "<|startoftext|>", "<|im_start|>user", "x <|endoftext|>'s", "<|endoftext|>   word",
];

const punctuation = [
  "!!!", "???", "...", "…", "!?!?", "---", "___", "***", "===", "~~~", "###", "@@@", "$$$", "%%%",
  "^^^", "&&&", "(((", ")))", "[[[", "]]]", "{{{", "}}}", "<<<", ">>>", "|||", "\\\\\\", "///",
  "!".repeat(50), ".".repeat(100), "-".repeat(80), "=".repeat(64), "_".repeat(33), "*".repeat(17),
  "Wait... what?!", "Hmm—really?", " !", " !!", "x !", "x  !", " ,", "a,b,c", "a, b, c",
  "(a)", "[a]", "{a}", "<a>", "\"a\"", "'a'", "`a`", "«a»", "„a“", "‹a›", "【a】", "「a」",
  "。、！？", "，；：", "¡Hola!", "¿Qué?", "؟", "।", "।।",
];

const longWords = [
  "a".repeat(1000), "ab".repeat(500), "abc".repeat(300), "The".repeat(200), " the".repeat(300),
  "z".repeat(129), "xyzzy".repeat(64), "aaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "Lorem ipsum dolor sit amet, ".repeat(40), "0123456789".repeat(50), "日本".repeat(200),
  "🙂".repeat(100), "é".repeat(150), "ab cd".repeat(100), "a b ".repeat(150), "\u00e9\u0301".repeat(60),
];

const mixed = [
  "Tokyo (東京) is Japan's capital; population ≈ 14M 🗼.",
  "The word «naïve» has a diaeresis—so does Zoë's café.",
  "Price: €1.234,56 (≈ $1,337.00) – 20% off!",
  "Ωmega and Alpha: αβγ vs ABC and 123 vs ١٢٣.",
  "He said: 'I'll be back' — and he was.",
  "user@例え.jp http://例え.jp/パス?クエリ=値",
  "Mix of scripts: English, русский, 中文, العربية, हिन्दी, 🙂.",
  "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
  "ǂ ǃ ʼ ˈ ː", "İstanbul'da", "Ça va? Très bien!", "naïve résumé coöperate",
  "I'm 25 y/o & live @ 221B Baker St.",
  "3D 4K 1080p 5G 2FA",
  "Go-to, self-driving, state-of-the-art.",
  "Mr. O'Brien's dog's bone",
  "\"It's\" – he said – \"fine.\"",
  "🎉Congrats🎉 on 10,000 followers!!!",
  "x86_64-linux-gnu gcc-12 -O2 -march=native",
  "#1 best-seller; 2nd place; 3rd-party",
];

// Seeded random strings from a pool of characters the pre-tokenizer treats differently.
const pool = [
  "a", "b", "Z", "é", "ß", "日", "ア", "한", "ب", "א", "ก", "क", "ı", "ǅ", "𝐀",
  "0", "7", "²", "½", "Ⅻ", "٣", "①",
  " ", " ", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", "\ufeff", "\u2009",
  "'", "'", "’", "!", ".", ",", "-", "_", "@", "#", "(", ")", "\"", "\u0301", "\u200d", "\u0085", "🙂", "👍🏽", "🇯🇵",
  "s", "t", "re", "ve", "m", "ll", "d", "S", "<|endoftext|>", "\u0000", "\u007f",
];
let seed = 20241127;
function random() {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 4294967296;
}
const randomStrings = [];
for (let i = 0; i < 220; ++i) {
  const length = 1 + Math.floor(random() * (i < 150 ? 12 : 40));
  let text = "";
  for (let k = 0; k < length; ++k) text += pool[Math.floor(random() * pool.length)];
  randomStrings.push(text);
}

// Every contraction after every kind of prefix character.
const contractionGrid = [];
for (const prefix of ["x", " ", "!", "1", "é", "\u00a0"]) {
  for (const suffix of ["s", "t", "re", "ve", "m", "ll", "d"]) contractionGrid.push(`${prefix}'${suffix}x`);
}

const corpus = [
  ...prose, ...contractions, ...contractionGrid, ...whitespace, ...numbers, ...code, ...web, ...emoji,
  ...scripts, ...marks, ...math, ...controls, ...special, ...punctuation, ...longWords, ...mixed, ...randomStrings,
];
const unique = [...new Set(corpus)];
for (const text of unique) {
  if (!text.isWellFormed()) throw new Error(`lone surrogate in ${JSON.stringify(text)}`);
}
const outPath = join(dirname(fileURLToPath(import.meta.url)), "corpus.json");
writeFileSync(outPath, "[\n" + unique.map((text) => "  " + JSON.stringify(text)).join(",\n") + "\n]\n");
console.log(`wrote ${unique.length} strings to ${outPath}`);
