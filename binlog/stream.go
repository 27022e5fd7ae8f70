package binlog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/rowcodec"
)

// Kind is the kind of an Event.
type Kind int

const (
	// Begin opens a transaction (its GTID event, or BEGIN without GTIDs).
	Begin Kind = iota + 1
	// Rows is a batch of row changes of one table, inside a transaction.
	Rows
	// Query is a statement logged as SQL text: DDL (then followed by its Commit,
	// since DDL is a transaction of its own), or inside a transaction SAVEPOINT
	// and the like. With binlog_format=ROW no DML comes this way.
	Query
	// Commit ends a transaction (XID, COMMIT, or the end of a DDL). Its Pos is a
	// checkpoint: Open at it yields exactly the transactions after this one.
	Commit
	// Rollback says that the open transaction is abandoned: the connection was
	// lost in its middle and the stream restarted at the last Commit, so the
	// transaction comes again, in full. Drop what was gathered since Begin.
	Rollback
	// Heartbeat: the source is idle and the connection alive.
	Heartbeat
)

var kindNames = [...]string{"", "begin", "rows", "query", "commit", "rollback", "heartbeat"}

func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Op is a row operation.
type Op int

const (
	Insert Op = iota + 1
	Update
	Delete
)

func (o Op) String() string {
	switch o {
	case Insert:
		return "insert"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Change is one row change. Insert has After only, Delete Before only, Update both.
// Images hold the copied columns (Event.Columns) in table order, typed exactly as
// rowcodec's reader types them.
type Change struct {
	Before, After rowcodec.Row
}

// Event is one step of the binlog.
type Event struct {
	Kind Kind
	// Pos is where the stream stands after this event: File and Pos of the event's
	// end, GTID the position of the last commit (this one's for Commit). Only a
	// Commit's Pos is a place to resume from.
	Pos Position
	// Time is the event's timestamp on the source (second precision; zero for a
	// Heartbeat or a Rollback), for lag.
	Time time.Time
	// GTID is the transaction's own GTID ("" without GTIDs), from Begin to Commit.
	GTID string

	// Rows: the table, the operation, the columns of the images and the changes.
	// Query: Schema is the statement's default database, SQL its text.
	Schema, Table string
	Op            Op
	Columns       []rowcodec.Column
	Changes       []Change
	SQL           string
}

// Stream reads events. It is not safe for concurrent use.
type Stream struct {
	cfg      Config
	syncCfg  replication.BinlogSyncerConfig
	flavor   string
	charsets map[uint64]string
	byGTID   bool

	syncer   *replication.BinlogSyncer
	streamer *replication.BinlogStreamer

	file string // binlog file being read
	pos  uint64 // end of the last event read

	committed Position      // after the last Commit handed out: where a reconnect restarts
	gset      mysql.GTIDSet // GTID position of committed
	gtidKnown bool          // gset is complete (start GTID known), so positions carry it

	inTx       bool
	explicitTx bool // a multi-statement transaction: ends with XID/COMMIT, not after a statement
	txGTID     string
	txMaria    *mysql.MariadbGTID
	txMySQL    string // "uuid[:tag]:gno"

	plans map[uint64]*planEntry
	queue []Event
	err   error // sticky: once failed, Next keeps failing

	closed   bool
	pending  *replication.BinlogEvent // a TableMap whose Lookup ctx interrupted
	cause    error                    // why the connection was lost, while reconnecting
	attempts int                      // consecutive failed reconnects
	// lost is set while the connection is down (read by other goroutines:
	// Disconnected).
	lost atomic.Pointer[Outage]
}

// Outage is a lost binlog connection being reconnected.
type Outage struct {
	Since time.Time
	Cause error // redacted
}

// Disconnected reports the connection lost and not back yet (nil: connected).
// Safe to call from any goroutine, while Next reconnects.
func (s *Stream) Disconnected() *Outage { return s.lost.Load() }

type planEntry struct {
	fingerprint uint64
	plan        *plan // nil: table not replicated
}

// Flavor is "mariadb" or "mysql".
func (s *Stream) Flavor() string { return s.flavor }

// Committed is the position after the last Commit handed out (the start position
// before any).
func (s *Stream) Committed() Position { return s.committed }

// Close ends the replication connection.
func (s *Stream) Close() {
	s.closed = true
	s.drop()
}

// drop ends the current replication connection.
func (s *Stream) drop() {
	if s.syncer != nil {
		s.syncer.Close()
		s.syncer, s.streamer = nil, nil
	}
}

// connect starts a syncer at the last commit.
func (s *Stream) connect() error {
	s.syncer = replication.NewBinlogSyncer(s.syncCfg)
	var err error
	if s.byGTID {
		s.streamer, err = s.syncer.StartSyncGTID(s.gset.Clone())
	} else {
		s.streamer, err = s.syncer.StartSync(mysql.Position{Name: s.committed.File, Pos: uint32(s.committed.Pos)})
	}
	if err != nil {
		s.syncer.Close()
		s.syncer = nil
		return fmt.Errorf("binlog: start reading %s at %s: %w", s.cfg.Endpoint.Address(), s.committed,
			dbconn.Redact(err, s.syncCfg.Password))
	}
	s.file, s.pos = s.committed.File, s.committed.Pos
	s.plans = map[uint64]*planEntry{}
	return nil
}

// Next returns the next event, waiting for one. A lost connection is not an
// error: Next reconnects at the last commit (a Rollback event first when a
// transaction was open), giving up after Config.ReconnectAttempts consecutive
// failures. Any other error ends the Stream (Next keeps returning it; Close it),
// except ctx's own, after which Next may be called again.
func (s *Stream) Next(ctx context.Context) (*Event, error) {
	if s.err != nil {
		return nil, s.err
	}
	for len(s.queue) == 0 {
		if s.closed {
			return nil, errors.New("binlog: stream closed")
		}
		if ev := s.pending; ev != nil {
			s.pending = nil
			if err := s.handleOnce(ctx, ev); err != nil {
				return nil, err
			}
			continue
		}
		if s.syncer == nil {
			if err := s.reconnect(ctx); err != nil {
				if ctx.Err() == nil {
					s.err = err
				}
				return nil, err
			}
			continue
		}
		ev, err := s.streamer.GetEvent(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !retryable(err) {
				s.err = fmt.Errorf("binlog: read %s after %s: %w", s.cfg.Endpoint.Address(), s.committed, dbconn.Redact(err, s.syncCfg.Password))
				return nil, s.err
			}
			s.cause = err
			s.lost.CompareAndSwap(nil, &Outage{Since: time.Now(), Cause: dbconn.Redact(err, s.syncCfg.Password)})
			s.drop()
			continue
		}
		if err := s.handleOnce(ctx, ev); err != nil {
			return nil, err
		}
	}
	e := s.queue[0]
	s.queue = s.queue[1:]
	if len(s.queue) == 0 {
		s.queue = s.queue[:0:0] // let the backing array go
	}
	return &e, nil
}

// handleOnce handles ev; an error ends the stream, except when ctx ended a Lookup
// of a TableMap: nothing else has changed then, so the event is kept for the next
// call.
func (s *Stream) handleOnce(ctx context.Context, ev *replication.BinlogEvent) error {
	err := s.handle(ctx, ev)
	if err == nil {
		return nil
	}
	if _, ok := ev.Event.(*replication.TableMapEvent); ok && ctx.Err() != nil {
		s.pending = ev
		return ctx.Err()
	}
	s.err = err
	return err
}

// reconnect restarts reading at the last commit after the connection was lost
// (s.cause), waiting 1s, then twice as long as the time before, up to 10s.
// Interrupted by ctx, it resumes at the next call with the attempts made so far.
func (s *Stream) reconnect(ctx context.Context) error {
	for {
		s.attempts++
		wait := time.Second << min(s.attempts-1, 4)
		wait = min(wait, 10*time.Second)
		s.cfg.Logger.Warn("binlog connection lost, reconnecting", "attempt", s.attempts, "at", s.committed.String(),
			"error", dbconn.Redact(s.cause, s.syncCfg.Password).Error())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			s.attempts--
			return ctx.Err()
		case <-t.C:
		}
		err := s.connect()
		if err == nil {
			s.attempts, s.cause = 0, nil
			s.lost.Store(nil)
			if s.inTx {
				s.queue = append(s.queue, Event{Kind: Rollback, Pos: s.committed, GTID: s.txGTID})
				s.endTx()
			}
			return nil
		}
		if !retryable(err) || s.cfg.ReconnectAttempts > 0 && s.attempts >= s.cfg.ReconnectAttempts {
			return fmt.Errorf("binlog: reconnect (attempt %d) after %v: %w", s.attempts, dbconn.Redact(s.cause, s.syncCfg.Password), err)
		}
		s.cause = err
		if o := s.lost.Load(); o != nil {
			s.lost.Store(&Outage{Since: o.Since, Cause: dbconn.Redact(err, s.syncCfg.Password)})
		}
	}
}

// retryable tells a lost or refused connection (worth reconnecting) from errors a
// new connection would meet again: server refusals (purged binlog, access denied)
// and undecodable events.
func retryable(err error) bool {
	var me *mysql.MyError
	if errors.As(err, &me) {
		switch me.Code {
		case 1040, // too many connections
			1053, // server shutdown in progress
			1159, // net read interrupted
			1161, // net write interrupted
			1203, // max_user_connections
			1317, // query interrupted
			1927, // connection killed (MariaDB)
			2006, // server gone away
			2013: // lost connection
			return true
		}
		return false
	}
	var ne net.Error
	return errors.Is(err, mysql.ErrBadConn) || errors.As(err, &ne) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

func (s *Stream) emit(e Event) { s.queue = append(s.queue, e) }

// here is the current position for an event that is not a commit.
func (s *Stream) here() Position {
	p := Position{File: s.file, Pos: s.pos}
	if s.gtidKnown {
		p.GTID = s.committed.GTID
	}
	return p
}

// handle turns one binlog event into zero or more Events.
func (s *Stream) handle(ctx context.Context, ev *replication.BinlogEvent) error {
	h := ev.Header
	if rot, ok := ev.Event.(*replication.RotateEvent); ok {
		// Real rotations and the artificial one a dump starts with name the file
		// read next.
		s.file, s.pos = string(rot.NextLogName), rot.Position
		return nil
	}
	_, heartbeat := ev.Event.(*replication.HeartbeatEvent)
	// A heartbeat's LogPos is how far the source has looked, which may be past
	// events it did not send; the position is that of the events read.
	if h.LogPos > 0 && h.Flags&replication.LOG_EVENT_ARTIFICIAL_F == 0 && !heartbeat {
		s.pos = uint64(h.LogPos)
	}
	ts := time.Unix(int64(h.Timestamp), 0)
	switch e := ev.Event.(type) {
	case *replication.MariadbGTIDEvent:
		// Flag values of MariaDB's Gtid_log_event (log_event.h).
		const flPreparedXA = 64
		if e.Flags&flPreparedXA != 0 {
			return fmt.Errorf("binlog: XA PREPARE of transaction %s at %s: XA transactions are not supported", e.GTID.String(), s.here())
		}
		s.beginTx(ts, e.GTID.String(), !e.IsStandalone())
		g := e.GTID
		s.txMaria = &g
	case *replication.GTIDEvent:
		s.mysqlGTID(ts, e)
	case *replication.GtidTaggedLogEvent:
		s.mysqlGTID(ts, &e.GTIDEvent)
	case *replication.QueryEvent:
		return s.query(ts, e)
	case *replication.XIDEvent:
		return s.commit(ts)
	case *replication.TableMapEvent:
		return s.tableMap(ctx, e)
	case *replication.RowsEvent:
		return s.rows(ts, h.EventType, e)
	case *replication.HeartbeatEvent:
		s.emit(Event{Kind: Heartbeat, Pos: s.here()})
	case *replication.TransactionPayloadEvent:
		// MySQL's binlog_transaction_compression: the transaction's events,
		// decompressed by go-mysql (the last one carries the payload's end).
		for _, inner := range e.Events {
			if err := s.handle(ctx, inner); err != nil {
				return err
			}
		}
	case *replication.GenericEvent:
		switch h.EventType {
		case replication.XA_PREPARE_LOG_EVENT:
			return fmt.Errorf("binlog: XA PREPARE at %s: XA transactions are not supported", s.here())
		case replication.INCIDENT_EVENT:
			// The source says its binlog lost changes (e.g. LOST_EVENTS): what
			// follows would not be a faithful copy.
			return fmt.Errorf("binlog: incident event at %s: the source's binlog is missing changes", s.here())
		}
	}
	// Format description, GTID lists, checkpoints, annotations, previous GTIDs,
	// INTVAR/RAND/USER_VAR (statement context, not used with ROW): nothing to say.
	return nil
}

func (s *Stream) mysqlGTID(ts time.Time, e *replication.GTIDEvent) {
	g := ""
	if e.GNO > 0 && !bytes.Equal(e.SID, make([]byte, len(e.SID))) {
		if set, err := e.GTIDNext(); err == nil {
			g = set.String()
		}
	}
	// MySQL writes BEGIN after the GTID of a multi-statement transaction; a DDL's
	// GTID is followed by the statement alone.
	s.beginTx(ts, g, false)
	s.txMySQL = g
}

func (s *Stream) beginTx(ts time.Time, gtid string, explicit bool) {
	if s.inTx {
		// Cannot happen in a well-formed binlog: say so rather than merge two.
		s.emit(Event{Kind: Rollback, Pos: s.here(), GTID: s.txGTID})
		s.endTx()
	}
	s.inTx, s.explicitTx, s.txGTID = true, explicit, gtid
	s.emit(Event{Kind: Begin, Pos: s.here(), Time: ts, GTID: gtid})
}

func (s *Stream) endTx() {
	s.inTx, s.explicitTx, s.txGTID, s.txMaria, s.txMySQL = false, false, "", nil, ""
}

func (s *Stream) query(ts time.Time, e *replication.QueryEvent) error {
	q := strings.TrimSpace(string(e.Query))
	word := strings.ToUpper(q)
	switch {
	case word == "BEGIN":
		if !s.inTx {
			s.beginTx(ts, "", true)
		}
		s.explicitTx = true
		return nil
	case word == "COMMIT":
		return s.commit(ts)
	case word == "ROLLBACK":
		// Logged when a transaction that changed non-transactional tables rolls
		// back: those changes happened and are in the binlog before it.
		return s.commit(ts)
	case strings.HasPrefix(word, "XA "):
		return fmt.Errorf("binlog: %q at %s: XA transactions are not supported", q, s.here())
	}
	// A statement changes tables: the next TableMaps may describe them
	// differently, so their plans are checked again.
	s.plans = map[uint64]*planEntry{}
	standalone := !s.inTx
	if standalone {
		s.beginTx(ts, "", false)
	}
	s.emit(Event{Kind: Query, Pos: s.here(), Time: ts, GTID: s.txGTID, Schema: string(e.Schema), SQL: string(e.Query)})
	if standalone || !s.explicitTx {
		return s.commit(ts)
	}
	return nil
}

func (s *Stream) commit(ts time.Time) error {
	if !s.inTx {
		return fmt.Errorf("binlog: commit without a transaction at %s", s.here())
	}
	switch {
	case s.txMaria != nil:
		if err := s.gset.(*mysql.MariadbGTIDSet).AddSet(s.txMaria); err != nil {
			return fmt.Errorf("binlog: GTID %s: %w", s.txGTID, err)
		}
	case s.txMySQL != "":
		if err := s.gset.(*mysql.MysqlGTIDSet).Update(s.txMySQL); err != nil {
			return fmt.Errorf("binlog: GTID %s: %w", s.txGTID, err)
		}
	}
	s.committed = Position{File: s.file, Pos: s.pos}
	if s.gtidKnown {
		s.committed.GTID = s.gset.String()
	}
	s.emit(Event{Kind: Commit, Pos: s.committed, Time: ts, GTID: s.txGTID})
	s.endTx()
	return nil
}

// tableMap resolves the plan of a table id, asking Lookup only when the TableMap
// differs from the one the plan was made for.
func (s *Stream) tableMap(ctx context.Context, tm *replication.TableMapEvent) error {
	fp := fingerprint(tm)
	if pe, ok := s.plans[tm.TableID]; ok && pe.fingerprint == fp {
		return nil
	}
	t, err := s.cfg.Lookup(ctx, string(tm.Schema), string(tm.Table))
	if err != nil {
		return fmt.Errorf("binlog: table %s.%s at %s: %w", tm.Schema, tm.Table, s.here(), err)
	}
	pe := &planEntry{fingerprint: fp}
	if t != nil {
		if pe.plan, err = newPlan(tm, t, s.charsets); err != nil {
			return fmt.Errorf("%w (at %s)", err, s.here())
		}
	}
	s.plans[tm.TableID] = pe
	return nil
}

func (s *Stream) rows(ts time.Time, et replication.EventType, e *replication.RowsEvent) error {
	pe, ok := s.plans[e.TableID]
	if !ok {
		return fmt.Errorf("binlog: row event for table id %d without its table map at %s", e.TableID, s.here())
	}
	if pe.plan == nil {
		return nil
	}
	if !s.inTx {
		return fmt.Errorf("binlog: row event outside a transaction at %s", s.here())
	}
	var op Op
	switch e.Type() {
	case replication.EnumRowsEventTypeInsert:
		op = Insert
	case replication.EnumRowsEventTypeUpdate:
		op = Update
	case replication.EnumRowsEventTypeDelete:
		op = Delete
	default:
		return fmt.Errorf("binlog: row event %s on %s.%s at %s is not supported", et, pe.plan.schema, pe.plan.table, s.here())
	}
	if et == replication.PARTIAL_UPDATE_ROWS_EVENT {
		return fmt.Errorf("binlog: partial JSON update on %s.%s at %s: set binlog_row_value_options='' on the source", pe.plan.schema, pe.plan.table, s.here())
	}
	per := 1
	if op == Update {
		per = 2
	}
	if len(e.Rows)%per != 0 || len(e.SkippedColumns) != len(e.Rows) {
		return fmt.Errorf("binlog: %s.%s: malformed %s event at %s", pe.plan.schema, pe.plan.table, op, s.here())
	}
	out := Event{Kind: Rows, Pos: s.here(), Time: ts, GTID: s.txGTID, Schema: pe.plan.schema, Table: pe.plan.table,
		Op: op, Columns: pe.plan.cols, Changes: make([]Change, 0, len(e.Rows)/per)}
	for i := 0; i < len(e.Rows); i += per {
		img, err := pe.plan.decodeRow(e.Rows[i], e.SkippedColumns[i])
		if err != nil {
			return fmt.Errorf("%w (at %s)", err, s.here())
		}
		var c Change
		switch op {
		case Insert:
			c.After = img
		case Delete:
			c.Before = img
		case Update:
			c.Before = img
			if c.After, err = pe.plan.decodeRow(e.Rows[i+1], e.SkippedColumns[i+1]); err != nil {
				return fmt.Errorf("%w (at %s)", err, s.here())
			}
		}
		out.Changes = append(out.Changes, c)
	}
	s.emit(out)
	return nil
}

// fingerprint identifies what a TableMap says about its table's columns.
func fingerprint(tm *replication.TableMapEvent) uint64 {
	h := fnv.New64a()
	put := func(b []byte) {
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	put(tm.Schema)
	put(tm.Table)
	put(tm.ColumnType)
	meta := make([]byte, 2*len(tm.ColumnMeta))
	for i, m := range tm.ColumnMeta {
		binary.LittleEndian.PutUint16(meta[2*i:], m)
	}
	put(meta)
	put(tm.NullBitmap)
	put(tm.SignednessBitmap)
	for _, n := range tm.ColumnName {
		put(n)
	}
	for _, vals := range [][][][]byte{tm.EnumStrValue, tm.SetStrValue} {
		for _, v := range vals {
			put(nil)
			for _, x := range v {
				put(x)
			}
		}
	}
	for _, seq := range [][]uint64{tm.DefaultCharset, tm.ColumnCharset, tm.EnumSetDefaultCharset, tm.EnumSetColumnCharset} {
		b := make([]byte, 8*len(seq)+1)
		for i, x := range seq {
			binary.LittleEndian.PutUint64(b[8*i:], x)
		}
		put(b)
	}
	return h.Sum64()
}
