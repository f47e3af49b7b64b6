// nvrtc.cpp: the NVRTC subset. A "compile" scans the CUDA source for its extern "C" kernels,
// rewrites `extern __shared__` declarations, appends one entry point per kernel, and builds the
// result with g++ (force-including cuda_shim.h) into a shared object. The "CUBIN" is that
// object behind a small header; the "PTX" is the same in base64, so either loads.
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <unordered_set>

#include "emulator.h"

extern char** environ;

namespace scone {
extern const char* const kShimHeader;  // include/cuda_shim.h, embedded at build time
extern const char* const kAbiHeader;   // include/scone_emu_abi.h
}  // namespace scone

using namespace scone;

typedef int nvrtcResult;
enum : int {
    NVRTC_SUCCESS = 0,
    NVRTC_ERROR_OUT_OF_MEMORY = 1,
    NVRTC_ERROR_PROGRAM_CREATION_FAILURE = 2,
    NVRTC_ERROR_INVALID_INPUT = 3,
    NVRTC_ERROR_INVALID_PROGRAM = 4,
    NVRTC_ERROR_INVALID_OPTION = 5,
    NVRTC_ERROR_COMPILATION = 6,
    NVRTC_ERROR_BUILTIN_OPERATION_FAILURE = 7,
    NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION = 8,
    NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION = 9,
    NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID = 10,
    NVRTC_ERROR_INTERNAL_ERROR = 11,
};

struct SconeProgram {
    std::string source, name;
    std::vector<std::pair<std::string, std::string>> headers;  // include name, text
    bool compiled = false;
    std::string log, cubin, ptx;
    std::map<std::string, std::string> lowered;  // name expression -> lowered name
};
typedef SconeProgram* nvrtcProgram;

namespace {

std::mutex g_programsMutex;
std::unordered_set<SconeProgram*> g_programs;

bool valid_program(nvrtcProgram p) {
    std::lock_guard<std::mutex> lock(g_programsMutex);
    return g_programs.count(p) != 0;
}

// ---- Source scanning ---------------------------------------------------------------------------

struct Token {
    enum Kind { Identifier, String, Number, Punct } kind;
    std::string text;
    size_t begin, end;
    bool blockScope;  // inside a function (or class) body
};

std::vector<Token> tokenize(const std::string& s) {
    std::vector<Token> tokens;
    enum Brace { Linkage, Namespace, Body };
    std::vector<Brace> braces;
    int bodyDepth = 0;
    size_t i = 0, n = s.size();
    bool lineStart = true;
    while (i < n) {
        char c = s[i];
        if (c == '\n') {
            lineStart = true;
            ++i;
            continue;
        }
        if (isspace((unsigned char)c)) {
            ++i;
            continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '/') {
            while (i < n && s[i] != '\n') ++i;
            continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            size_t close = s.find("*/", i + 2);
            i = close == std::string::npos ? n : close + 2;
            continue;
        }
        if (c == '#' && lineStart) {  // preprocessor line, with continuations
            while (i < n && s[i] != '\n') i += (s[i] == '\\' && i + 1 < n) ? 2 : 1;
            continue;
        }
        lineStart = false;
        Token t{Token::Punct, "", i, i, bodyDepth > 0};
        if (c == '"' || c == '\'') {
            size_t j = i + 1;
            while (j < n && s[j] != c && s[j] != '\n') j += s[j] == '\\' ? 2 : 1;
            t.kind = Token::String;
            t.end = std::min(n, j + 1);
        } else if (isalpha((unsigned char)c) || c == '_') {
            size_t j = i;
            while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '_')) ++j;
            t.kind = Token::Identifier;
            t.end = j;
        } else if (isdigit((unsigned char)c)) {
            size_t j = i;
            while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '.')) ++j;
            t.kind = Token::Number;
            t.end = j;
        } else {
            t.end = i + 1;
        }
        t.text = s.substr(t.begin, t.end - t.begin);
        i = t.end;
        if (t.text == "{") {
            size_t k = tokens.size();
            Brace kind = Body;
            if (k >= 2 && tokens[k - 1].kind == Token::String && tokens[k - 2].text == "extern")
                kind = Linkage;
            else if ((k >= 1 && tokens[k - 1].text == "namespace") ||
                     (k >= 2 && tokens[k - 2].text == "namespace"))
                kind = Namespace;
            braces.push_back(kind);
            if (kind == Body) bodyDepth++;
        } else if (t.text == "}" && !braces.empty()) {
            if (braces.back() == Body) bodyDepth--;
            braces.pop_back();
            t.blockScope = bodyDepth > 0;
        }
        tokens.push_back(std::move(t));
    }
    return tokens;
}

// Index just past the parenthesised group that opens at tokens[i] ("(").
size_t skip_parens(const std::vector<Token>& t, size_t i) {
    int depth = 0;
    for (; i < t.size(); ++i) {
        if (t[i].text == "(") depth++;
        if (t[i].text == ")" && --depth == 0) return i + 1;
    }
    return t.size();
}

bool is_attribute_macro(const std::string& s) {
    return s == "__launch_bounds__" || s == "__attribute__" || s == "__declspec" || s == "alignas" ||
           s == "__align__";
}

// Names of the extern "C" __global__ functions, in order of appearance. Kernels that are
// templates or have C++ linkage are reported in `notes`: they get no entry point.
std::vector<std::string> find_kernels(const std::vector<Token>& t, std::string& notes) {
    std::vector<std::string> names;
    std::set<std::string> seen;
    std::vector<bool> inLinkage;  // per open brace: is it extern "C" { ?
    for (size_t i = 0; i < t.size(); ++i) {
        if (t[i].text == "{")
            inLinkage.push_back(i >= 2 && t[i - 1].kind == Token::String && t[i - 1].text == "\"C\"" &&
                                t[i - 2].text == "extern");
        if (t[i].text == "}" && !inLinkage.empty()) inLinkage.pop_back();
        if (t[i].kind != Token::Identifier || t[i].text != "__global__") continue;

        bool externC = false, isTemplate = false;
        for (bool open : inLinkage) externC |= open;
        for (size_t j = i; j-- > 0;) {
            const std::string& s = t[j].text;
            if (s == ";" || s == "{" || s == "}") break;
            if (s == "template") isTemplate = true;
            if (t[j].kind == Token::String && s == "\"C\"" && j > 0 && t[j - 1].text == "extern") externC = true;
        }
        std::string name;
        size_t j = i + 1;
        while (j < t.size()) {
            if (t[j].kind == Token::Identifier && is_attribute_macro(t[j].text) && j + 1 < t.size() &&
                t[j + 1].text == "(") {
                j = skip_parens(t, j + 1);
                continue;
            }
            if (t[j].kind == Token::Identifier && j + 1 < t.size() && t[j + 1].text == "(") {
                name = t[j].text;
                break;
            }
            if (t[j].text == ";" || t[j].text == "{") break;
            ++j;
        }
        if (name.empty()) continue;
        if (!externC || isTemplate) {
            notes += "note: kernel '" + name +
                     "' is not an extern \"C\" non-template function: the emulator gives it no entry point\n";
            continue;
        }
        if (seen.insert(name).second) names.push_back(name);
    }
    return names;
}

// Rewrites each `extern __shared__ T name[];` into a pointer to the launch's dynamic shared
// memory. Inside a function: a local `T* const name`; at file scope: a macro, with #line so
// that compiler messages keep the original line numbers.
std::string rewrite_dynamic_shared(const std::string& src, const std::vector<Token>& t,
                                   const std::string& fileName) {
    std::string out;
    size_t copied = 0;
    for (size_t i = 0; i + 1 < t.size(); ++i) {
        if (t[i].text != "extern" || t[i + 1].text != "__shared__") continue;
        size_t j = i + 2;
        std::vector<const Token*> type;
        while (j < t.size() && t[j].text != ";") {
            if (t[j].kind == Token::Identifier && is_attribute_macro(t[j].text) && j + 1 < t.size() &&
                t[j + 1].text == "(") {
                j = skip_parens(t, j + 1);
                continue;
            }
            type.push_back(&t[j]);
            ++j;
        }
        // type... name [ ] ;
        if (j >= t.size() || type.size() < 4 || type[type.size() - 1]->text != "]" ||
            type[type.size() - 2]->text != "[" || type[type.size() - 3]->kind != Token::Identifier)
            continue;
        std::string name = type[type.size() - 3]->text, typeText;
        for (size_t k = 0; k + 3 < type.size(); ++k) {
            bool word = type[k]->kind == Token::Identifier || type[k]->kind == Token::Number;
            if (k > 0 && word && (type[k - 1]->kind == Token::Identifier || type[k - 1]->kind == Token::Number))
                typeText += ' ';
            typeText += type[k]->text;
        }
        std::string cast = "reinterpret_cast<" + typeText + "*>(__scone_dynamic_shared())";
        out.append(src, copied, t[i].begin - copied);
        if (t[i].blockScope) {
            out += typeText + "* const " + name + " = " + cast + ";";
        } else {
            int line = 1 + (int)std::count(src.begin(), src.begin() + (long)t[j].end, '\n');
            out += "\n#define " + name + " (" + cast + ")\n#line " + std::to_string(line) + " \"" + fileName + "\"\n";
        }
        // Keep the line count of a declaration that spanned several lines.
        size_t newlines = (size_t)std::count(src.begin() + (long)t[i].begin, src.begin() + (long)t[j].end, '\n');
        if (t[i].blockScope) out.append(newlines, '\n');
        copied = t[j].end;
        i = j;
    }
    out.append(src, copied, std::string::npos);
    return out;
}

std::string entry_points(const std::vector<std::string>& kernels) {
    std::ostringstream o;
    o << "\n#line 1 \"<scone-emulator entry points>\"\n"
         "namespace __scone_entry {\n"
         "template <class... A, size_t... I>\n"
         "inline void invoke(void (*f)(A...), void** p, std::index_sequence<I...>) {\n"
         "    f(*static_cast<std::remove_cv_t<A>*>(p[I])...);\n"
         "}\n"
         "template <class... A>\n"
         "inline void invoke(void (*f)(A...), void** p) { invoke(f, p, std::index_sequence_for<A...>{}); }\n"
         "template <class... A>\n"
         "inline const unsigned long long* sizes(void (*)(A...)) {\n"
         "    static const unsigned long long s[] = {sizeof...(A), sizeof(A)...};\n"
         "    return s;\n"
         "}\n"
         "}\n"
         "#define __SCONE_EXPORT extern \"C\" __attribute__((visibility(\"default\")))\n"
         "__SCONE_EXPORT int __scone_module_init(const SconeRuntime* r) {\n"
         "    __scone_runtime = r;\n"
         "    return SCONE_EMU_ABI_VERSION;\n"
         "}\n"
         "__SCONE_EXPORT SconeCoords* __scone_coords() { return reinterpret_cast<SconeCoords*>(&__scone_builtins); }\n";
    for (const std::string& k : kernels) {
        o << "__SCONE_EXPORT void __scone_kernel_" << k << "(void** p) { __scone_cp_async_begin(); __scone_entry::invoke(&" << k
          << ", p); }\n";
        o << "__SCONE_EXPORT const unsigned long long* __scone_kparams_" << k << "() { return __scone_entry::sizes(&"
          << k << "); }\n";
    }
    return o.str();
}

// ---- Running g++ -------------------------------------------------------------------------------

bool write_file(const std::string& path, const std::string& text) {
    for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1))
        mkdir(path.substr(0, slash).c_str(), 0700);
    std::ofstream f(path, std::ios::binary);
    f << text;
    return bool(f);
}

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream o;
    o << f.rdbuf();
    return o.str();
}

void remove_tree(const std::string& dir) {
    auto remove_entry = [](const char* path, const struct stat*, int, struct FTW*) { return remove(path); };
    if (nftw(dir.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) log("could not remove %s", dir.c_str());
}

std::string absolute(const std::string& path) {
    if (path.empty() || path[0] == '/') return path;
    char cwd[4096];
    return getcwd(cwd, sizeof cwd) ? std::string(cwd) + "/" + path : path;
}

// Runs argv in `dir` with stdout and stderr into `logPath`; returns the exit status or -1.
int run_in(const std::string& dir, const std::vector<std::string>& args, const std::string& logPath,
           std::string& error) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
    posix_spawn_file_actions_addopen(&actions, 1, logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        error = std::string("cannot run ") + argv[0] + ": " + strerror(rc);
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string safe_file_name(const char* name) {
    std::string base = name && *name ? name : "default_program";
    size_t slash = base.find_last_of('/');
    if (slash != std::string::npos) base = base.substr(slash + 1);
    for (char& c : base)
        if (!isalnum((unsigned char)c) && c != '.' && c != '_' && c != '-') c = '_';
    return base.empty() || base[0] == '.' ? "default_program" : base;
}

nvrtcResult compile(SconeProgram& p, int numOptions, const char* const* options) {
    bool lineInfo = false, asan = false;
    const char* asanEnv = getenv("SCONE_EMULATOR_ASAN");
    asan = asanEnv && strcmp(asanEnv, "1") == 0;
    std::string standard = "-std=c++17";
    std::vector<std::string> userFlags;
    for (int i = 0; i < numOptions; ++i) {
        if (!options || !options[i]) return NVRTC_ERROR_INVALID_OPTION;
        std::string o = options[i];
        auto value = [&](const std::string& longName, const std::string& shortName, std::string& v) {
            for (const std::string& prefix : {longName, shortName}) {
                if (prefix.empty()) continue;
                if (o == prefix && i + 1 < numOptions) {
                    v = options[++i];
                    return true;
                }
                if (o.compare(0, prefix.size() + 1, prefix + "=") == 0) {
                    v = o.substr(prefix.size() + 1);
                    return true;
                }
                if (prefix.size() == 2 && o.size() > 2 && o.compare(0, 2, prefix) == 0) {
                    v = o.substr(2);
                    return true;
                }
            }
            return false;
        };
        std::string v;
        if (value("--define-macro", "-D", v)) {
            userFlags.push_back("-D" + v);
        } else if (value("--undefine-macro", "-U", v)) {
            userFlags.push_back("-U" + v);
        } else if (value("--include-path", "-I", v)) {
            userFlags.push_back("-I" + absolute(v));
        } else if (value("--pre-include", "-include", v)) {
            userFlags.push_back("-include");
            userFlags.push_back(absolute(v));
        } else if (value("--std", "-std", v)) {
            standard = "-std=" + v;
        } else if (o == "-lineinfo" || o == "--generate-line-info" || o == "-G" || o == "--device-debug") {
            lineInfo = true;
        } else if (value("--gpu-architecture", "-arch", v)) {
            // the code runs on this CPU whatever the target
        }
        // Everything else (-default-device, --use_fast_math, -ftz, -prec-div, -fmad, -rdc,
        // -maxrregcount, ...) is accepted and has no effect.
    }
    if (asan && !asan_runtime_present()) {
        p.log = "scone-emulator: SCONE_EMULATOR_ASAN=1 needs the AddressSanitizer runtime in the process: "
                "start it with LD_PRELOAD=$(g++ -print-file-name=libasan.so) (and, for .NET, "
                "ASAN_OPTIONS=detect_leaks=0:handle_segv=0:allow_user_segv_handler=1)\n";
        return NVRTC_ERROR_COMPILATION;
    }

    const char* tmp = getenv("TMPDIR");
    std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/scone-nvrtc-XXXXXX";
    if (!mkdtemp(&dir[0])) {
        p.log = std::string("scone-emulator: cannot create a temporary directory: ") + strerror(errno) + "\n";
        return NVRTC_ERROR_INTERNAL_ERROR;
    }
    std::string file = safe_file_name(p.name.c_str()), notes;
    std::vector<Token> tokens = tokenize(p.source);
    std::vector<std::string> kernels = find_kernels(tokens, notes);
    std::string unit = rewrite_dynamic_shared(p.source, tokens, file) + entry_points(kernels);
    bool ok = write_file(dir + "/" + file, unit) && write_file(dir + "/cuda_shim.h", kShimHeader) &&
              write_file(dir + "/scone_emu_abi.h", kAbiHeader);
    for (const auto& h : p.headers) ok = ok && write_file(dir + "/" + h.first, h.second);
    if (!ok) {
        p.log = "scone-emulator: cannot write the program to " + dir + "\n";
        remove_tree(dir);
        return NVRTC_ERROR_INTERNAL_ERROR;
    }

    const char* cxx = getenv("SCONE_EMULATOR_CXX");
    std::vector<std::string> args = {cxx && *cxx ? cxx : "g++", "-x", "c++", standard, "-O2", "-fPIC", "-shared",
                                     "-fvisibility=hidden", "-fno-math-errno", "-pthread", "-I.",
                                     "-include", "cuda_shim.h"};
    if (lineInfo || asan) {
        args.push_back("-g");
        args.push_back("-fdebug-prefix-map=" + dir + "=.");  // messages name ./kernels.cu, not the temp dir
    }
    if (asan) {
        args.push_back("-fsanitize=address");
        args.push_back("-fno-omit-frame-pointer");
    }
    args.insert(args.end(), userFlags.begin(), userFlags.end());
    args.insert(args.end(), {"-o", "module.so", file});
    std::string spawnError;
    int status = run_in(dir, args, dir + "/compile.log", spawnError);
    p.log = notes + read_file(dir + "/compile.log") + spawnError;
    if (!p.log.empty() && p.log.back() != '\n') p.log += '\n';
    std::string so = status == 0 ? read_file(dir + "/module.so") : std::string();
    const char* keep = getenv("SCONE_EMULATOR_KEEP");
    if (keep && strcmp(keep, "1") == 0)
        log("nvrtcCompileProgram: kept %s", dir.c_str());
    else
        remove_tree(dir);
    if (status != 0 || so.empty()) return NVRTC_ERROR_COMPILATION;

    BlobHeader header{};
    memcpy(header.magic, kBlobMagic, sizeof kBlobMagic);
    header.abiVersion = SCONE_EMU_ABI_VERSION;
    header.flags = asan ? (uint32_t)kBlobAsan : 0u;
    header.soBytes = so.size();
    p.cubin.assign(reinterpret_cast<const char*>(&header), sizeof header);
    p.cubin += so;
    p.ptx = std::string(kPtxHeader) + base64_encode(p.cubin) + "\n";
    return NVRTC_SUCCESS;
}

const char* const kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

namespace scone {

std::string base64_encode(const std::string& bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (size_t i = 0; i < bytes.size(); i += 3) {
        uint32_t v = (uint32_t)(unsigned char)bytes[i] << 16;
        if (i + 1 < bytes.size()) v |= (uint32_t)(unsigned char)bytes[i + 1] << 8;
        if (i + 2 < bytes.size()) v |= (unsigned char)bytes[i + 2];
        out += kBase64[v >> 18 & 63];
        out += kBase64[v >> 12 & 63];
        out += i + 1 < bytes.size() ? kBase64[v >> 6 & 63] : '=';
        out += i + 2 < bytes.size() ? kBase64[v & 63] : '=';
    }
    return out;
}

bool base64_decode(const char* text, std::string& out) {
    out.clear();
    uint32_t v = 0;
    int bits = 0;
    for (const char* c = text; *c && *c != '='; ++c) {
        if (*c == '\n') continue;
        const char* at = strchr(kBase64, *c);
        if (!at) return false;
        v = v << 6 | (uint32_t)(at - kBase64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += (char)(v >> bits & 0xff);
        }
    }
    return true;
}

}  // namespace scone

// ---- NVRTC API ---------------------------------------------------------------------------------

SCONE_EXPORT const char* nvrtcGetErrorString(nvrtcResult result) {
    static const char* const names[] = {"NVRTC_SUCCESS",
                                        "NVRTC_ERROR_OUT_OF_MEMORY",
                                        "NVRTC_ERROR_PROGRAM_CREATION_FAILURE",
                                        "NVRTC_ERROR_INVALID_INPUT",
                                        "NVRTC_ERROR_INVALID_PROGRAM",
                                        "NVRTC_ERROR_INVALID_OPTION",
                                        "NVRTC_ERROR_COMPILATION",
                                        "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE",
                                        "NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION",
                                        "NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION",
                                        "NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID",
                                        "NVRTC_ERROR_INTERNAL_ERROR"};
    return result >= 0 && result <= 11 ? names[result] : "NVRTC_ERROR unknown";
}

SCONE_EXPORT nvrtcResult nvrtcVersion(int* major, int* minor) {
    if (!major || !minor) return NVRTC_ERROR_INVALID_INPUT;
    *major = 12;
    *minor = 8;
    return NVRTC_SUCCESS;
}

static const int kArchs[] = {50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90};

SCONE_EXPORT nvrtcResult nvrtcGetNumSupportedArchs(int* count) {
    if (!count) return NVRTC_ERROR_INVALID_INPUT;
    *count = (int)(sizeof kArchs / sizeof kArchs[0]);
    return NVRTC_SUCCESS;
}

SCONE_EXPORT nvrtcResult nvrtcGetSupportedArchs(int* archs) {
    if (!archs) return NVRTC_ERROR_INVALID_INPUT;
    memcpy(archs, kArchs, sizeof kArchs);
    return NVRTC_SUCCESS;
}

SCONE_EXPORT nvrtcResult nvrtcCreateProgram(nvrtcProgram* prog, const char* src, const char* name, int numHeaders,
                                            const char* const* headers, const char* const* includeNames) {
    if (!prog) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!src || numHeaders < 0 || (numHeaders > 0 && (!headers || !includeNames))) return NVRTC_ERROR_INVALID_INPUT;
    auto* p = new SconeProgram();
    p->source = src;
    p->name = name && *name ? name : "default_program";
    for (int i = 0; i < numHeaders; ++i) {
        if (!headers[i] || !includeNames[i]) {
            delete p;
            return NVRTC_ERROR_INVALID_INPUT;
        }
        std::string include = includeNames[i];
        if (include.empty() || include[0] == '/' || include.find("..") != std::string::npos) {
            delete p;
            return NVRTC_ERROR_INVALID_INPUT;
        }
        p->headers.emplace_back(include, headers[i]);
    }
    std::lock_guard<std::mutex> lock(g_programsMutex);
    g_programs.insert(p);
    *prog = p;
    return NVRTC_SUCCESS;
}

SCONE_EXPORT nvrtcResult nvrtcDestroyProgram(nvrtcProgram* prog) {
    if (!prog) return NVRTC_ERROR_INVALID_PROGRAM;
    std::lock_guard<std::mutex> lock(g_programsMutex);
    if (!g_programs.erase(*prog)) return NVRTC_ERROR_INVALID_PROGRAM;
    delete *prog;
    *prog = nullptr;
    return NVRTC_SUCCESS;
}

SCONE_EXPORT nvrtcResult nvrtcCompileProgram(nvrtcProgram prog, int numOptions, const char* const* options) {
    if (!valid_program(prog)) return NVRTC_ERROR_INVALID_PROGRAM;
    if (numOptions < 0) return NVRTC_ERROR_INVALID_INPUT;
    prog->cubin.clear();
    prog->ptx.clear();
    nvrtcResult r = compile(*prog, numOptions, options);
    prog->compiled = r == NVRTC_SUCCESS;
    for (auto& entry : prog->lowered) {
        size_t start = entry.first.find_first_not_of(" \t&");
        size_t end = entry.first.find_last_not_of(" \t");
        entry.second = start == std::string::npos ? std::string() : entry.first.substr(start, end - start + 1);
    }
    return r;
}

SCONE_EXPORT nvrtcResult nvrtcGetProgramLogSize(nvrtcProgram prog, size_t* size) {
    if (!valid_program(prog)) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!size) return NVRTC_ERROR_INVALID_INPUT;
    *size = prog->log.size() + 1;
    return NVRTC_SUCCESS;
}

SCONE_EXPORT nvrtcResult nvrtcGetProgramLog(nvrtcProgram prog, char* text) {
    if (!valid_program(prog)) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!text) return NVRTC_ERROR_INVALID_INPUT;
    memcpy(text, prog->log.c_str(), prog->log.size() + 1);
    return NVRTC_SUCCESS;
}

static nvrtcResult result_size(nvrtcProgram prog, const std::string& result, size_t* size, bool nulTerminated) {
    if (!valid_program(prog) || !prog->compiled) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!size) return NVRTC_ERROR_INVALID_INPUT;
    *size = result.size() + (nulTerminated ? 1 : 0);
    return NVRTC_SUCCESS;
}

static nvrtcResult result_copy(nvrtcProgram prog, const std::string& result, char* out, bool nulTerminated) {
    if (!valid_program(prog) || !prog->compiled) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!out) return NVRTC_ERROR_INVALID_INPUT;
    memcpy(out, result.data(), result.size());
    if (nulTerminated) out[result.size()] = 0;
    return NVRTC_SUCCESS;
}

SCONE_EXPORT nvrtcResult nvrtcGetPTXSize(nvrtcProgram prog, size_t* size) {
    return result_size(prog, prog->ptx, size, true);
}
SCONE_EXPORT nvrtcResult nvrtcGetPTX(nvrtcProgram prog, char* ptx) { return result_copy(prog, prog->ptx, ptx, true); }
SCONE_EXPORT nvrtcResult nvrtcGetCUBINSize(nvrtcProgram prog, size_t* size) {
    return result_size(prog, prog->cubin, size, false);
}
SCONE_EXPORT nvrtcResult nvrtcGetCUBIN(nvrtcProgram prog, char* cubin) {
    return result_copy(prog, prog->cubin, cubin, false);
}

SCONE_EXPORT nvrtcResult nvrtcAddNameExpression(nvrtcProgram prog, const char* nameExpression) {
    if (!valid_program(prog)) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!nameExpression) return NVRTC_ERROR_INVALID_INPUT;
    if (prog->compiled) return NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION;
    prog->lowered[nameExpression];
    return NVRTC_SUCCESS;
}

// extern "C" names lower to themselves; C++ names are not mangled by the emulator.
SCONE_EXPORT nvrtcResult nvrtcGetLoweredName(nvrtcProgram prog, const char* nameExpression, const char** lowered) {
    if (!valid_program(prog)) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!nameExpression || !lowered) return NVRTC_ERROR_INVALID_INPUT;
    if (!prog->compiled) return NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION;
    auto it = prog->lowered.find(nameExpression);
    if (it == prog->lowered.end()) return NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID;
    *lowered = it->second.c_str();
    return NVRTC_SUCCESS;
}
