package limit

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

var (
	//go:embed cell.lua
	cellLua string
	//go:embed reserve.lua
	reserveLua string
	//go:embed settle.lua
	settleLua string

	reserveScript = redis.NewScript(cellLua + reserveLua)
	settleScript  = redis.NewScript(cellLua + settleLua)
)

// redisStore keeps the cells in Redis or Valkey: one hash per scope, changed only by the two
// scripts, so a Reserve is one EVALSHA round trip (EVAL once after Redis lost its script cache)
// and N replicas see one state. Without a clock of its own (Options.Now), the scripts read
// Redis's TIME, so the replicas' clocks never disagree about a window.
//
// It needs Redis 5 or later (scripts that read TIME and then write) or Valkey, one primary
// (with replicas or Sentinel behind one address); not Redis Cluster, where a request's scopes
// would live in different slots.
type redisStore struct {
	client   *redis.Client
	prefix   string
	redacted string   // the URL with its password masked
	url      *url.URL // for scrub
	clock    bool     // pass the engine's clock to the scripts instead of TIME
}

// openRedis connects to rawURL (redis://user:pass@host:port/db, rediss:// for TLS, unix://).
// The URL is a secret: no error or log line quotes its password. go-redis's own messages go to
// log (see redisLogger).
func openRedis(rawURL, prefix string, timeout time.Duration, clock bool, log *slog.Logger) (*redisStore, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse's error quotes the whole URL, password included.
		return nil, errors.New("limit store: the Redis URL does not parse (not shown: it may hold a password)")
	}
	shown := *u
	shown.RawQuery = "" // options are not secrets, but nothing requires showing them
	redacted := shown.Redacted()
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("limit store %s: %s", redacted, scrub(err.Error(), u))
	}
	// No retries: a script whose reply was lost may have run, and running it again would charge
	// the request twice. A dial error sends nothing, so the next request is the retry.
	opt.MaxRetries = -1
	opt.DialerRetries = 1
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = timeout, timeout, timeout, timeout
	opt.ContextTimeoutEnabled = true
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	redis.SetLogger(redisLogger{log: log, url: u})
	return &redisStore{client: redis.NewClient(opt), prefix: prefix, redacted: redacted, url: u, clock: clock}, nil
}

// redisLogger takes go-redis's own messages (a pool that cannot dial, a connection it drops),
// which it would print to stderr with the standard logger, past the router's log format and its
// scrubbing. They go to the engine's logger at debug level, the password removed: the engine
// already logs each change of the store's state once, and a down store makes go-redis complain on
// every probe. go-redis has one logger per process: the last store opened sets it.
type redisLogger struct {
	log *slog.Logger
	url *url.URL
}

// Printf implements go-redis's internal.Logging.
func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	if l.log.Enabled(ctx, slog.LevelDebug) {
		l.log.Debug("redis client", "message", scrub(fmt.Sprintf(format, v...), l.url))
	}
}

// scrub removes u's password from a message, in case a library quotes it.
func scrub(msg string, u *url.URL) string {
	if u.User == nil {
		return msg
	}
	if p, ok := u.User.Password(); ok && p != "" {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
		if esc := url.QueryEscape(p); esc != p {
			msg = strings.ReplaceAll(msg, esc, "xxxxx")
		}
	}
	return msg
}

// scrubbed is an error whose message had the password removed; it still unwraps to the cause.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// wrap returns err, or a scrubbed copy if its message quotes the password.
func (r *redisStore) wrap(err error) error {
	if err == nil {
		return nil
	}
	if msg := scrub(err.Error(), r.url); msg != err.Error() {
		return &scrubbed{msg: msg, err: err}
	}
	return err
}

func (r *redisStore) keys(scopes []*Scope) []string {
	keys := make([]string, len(scopes))
	for i, s := range scopes {
		keys[i] = r.prefix + s.name
	}
	return keys
}

// now returns the first two script arguments: the engine's clock, or "" for Redis's TIME.
func (r *redisStore) now(args []any, at instant) []any {
	if !r.clock {
		return append(args, "", "")
	}
	usec := int64(at.us) - (at.sec-limitEpoch)*1e6
	return append(args, at.sec, usec)
}

func (r *redisStore) reserve(ctx context.Context, at instant, p *plan) error {
	args := r.now(make([]any, 0, 4+5*len(p.scopes)), at)
	args = append(args, p.tokens, p.cost)
	for _, s := range p.scopes {
		args = append(args, s.rule.RPM, s.rule.TPM, s.rule.Budget.Tokens, s.budget, int(s.rule.Budget.Period))
	}
	v, err := reserveScript.Run(ctx, r.client, r.keys(p.scopes), args...).Int64Slice()
	if err != nil {
		return r.wrap(err)
	}
	if len(v) != 4+6*len(p.scopes) {
		return fmt.Errorf("the reserve script answered %d values for %d scopes", len(v), len(p.scopes))
	}
	p.ok, p.denied, p.reason, p.retry = v[0] == 1, int(v[1]), Reason(v[2]), float64(v[3])
	for i := range p.scopes {
		g := v[4+6*i:]
		p.grants[i] = grant{
			reqRemaining: g[0], reqReset: float64(g[1]),
			tokRemaining: g[2], tokReset: float64(g[3]),
			reserved: g[4], period: g[5],
		}
	}
	return nil
}

func (r *redisStore) settle(ctx context.Context, at instant, st *settlement) error {
	args := r.now(make([]any, 0, 5+4*len(st.scopes)), at)
	args = append(args, st.tokens, st.budget.tokens, st.budget.cost)
	for i, s := range st.scopes {
		args = append(args, s.rule.TPM, st.grants[i].reserved, int(s.rule.Budget.Period), st.grants[i].period)
	}
	return r.wrap(settleScript.Run(ctx, r.client, r.keys(st.scopes), args...).Err())
}

func (r *redisStore) usage(ctx context.Context, s *Scope, id int64) (spend, error) {
	v, err := r.client.HMGet(ctx, r.prefix+s.name, "p", "pp", "ut", "uc", "bt", "bc").Result()
	if err != nil {
		return spend{}, r.wrap(err)
	}
	n := make([]int64, len(v))
	for i, x := range v {
		if str, ok := x.(string); ok {
			f, err := strconv.ParseFloat(str, 64)
			if err != nil {
				return spend{}, fmt.Errorf("field %d of %s: %w", i, s.name, err)
			}
			n[i] = int64(f)
		}
	}
	c := &cell{period: n[0], prev: n[1], used: spend{n[2], n[3]}, before: spend{n[4], n[5]}}
	return periodUsage(c, id), nil
}

func (r *redisStore) ping(ctx context.Context) error {
	return r.wrap(r.client.Ping(ctx).Err())
}

func (r *redisStore) close() error   { return r.client.Close() }
func (r *redisStore) String() string { return r.redacted }
