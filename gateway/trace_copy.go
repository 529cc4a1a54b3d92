package gateway

import (
	"bytes"
	"encoding/binary"
	"strings"
	"time"
	"unicode/utf8"
)

// The trace's batches go to PostgreSQL in COPY's binary format, encoded
// here rather than by pgx's CopyFrom: pgx boxes every value in an interface
// and looks up its encoder, several allocations and map look-ups per field,
// about half of what the trace cost the gateway under load, for a table
// whose seventeen columns are all text but four.

// traceCopySQL names the columns in the order traceEncoder writes them.
const traceCopySQL = `COPY imis_gateway.trace (at, kind, phone, provider, session_id, node, asked, input, screen,
	ended, outcome, took_us, message_id, link, chfid, receipt, detail) FROM STDIN (FORMAT binary)`

const traceCopyFields = 17

// copyHeader opens a binary COPY stream: the signature, then 32 bits of
// flags and 32 bits of header extension length, both zero.
const copyHeader = "PGCOPY\n\xff\r\n\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00"

// postgresEpoch is where PostgreSQL's timestamps count from.
var postgresEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// traceEncoder builds one batch's COPY stream in a buffer it reuses.
type traceEncoder struct{ buf bytes.Buffer }

// encode returns the COPY stream of lines, whose phones are already
// normalised; it is valid until the next call.
func (e *traceEncoder) encode(lines []TraceLine) []byte {
	e.buf.Reset()
	e.buf.WriteString(copyHeader)
	for i := range lines {
		l := &lines[i]
		e.int16(traceCopyFields)
		e.int32(8)
		e.int64(l.At.Sub(postgresEpoch).Microseconds())
		e.text(l.Kind)
		e.text(l.Phone)
		e.text(l.Provider)
		e.text(l.SessionID)
		e.text(l.Node)
		e.text(l.Asked)
		e.text(l.Input)
		e.text(l.Screen)
		if l.Kind == TraceHop {
			e.int32(1)
			e.buf.WriteByte(boolByte(l.Ended))
		} else {
			e.null()
		}
		e.text(l.Outcome)
		if l.Kind == TraceHop {
			e.int32(4)
			e.int32(int32(min(l.Took.Microseconds(), 1<<31-1)))
		} else {
			e.null()
		}
		e.text(l.MessageID)
		e.text(l.Link)
		e.text(l.CHFID)
		e.text(l.Receipt)
		e.text(l.Detail)
	}
	e.int16(-1)
	return e.buf.Bytes()
}

// text writes s, or NULL for "". What came from a wire may be anything, and
// one string PostgreSQL refuses (bytes that are not UTF-8, or NUL) would
// lose the whole batch, so such bytes are replaced.
func (e *traceEncoder) text(s string) {
	if s == "" {
		e.null()
		return
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	}
	e.int32(int32(len(s)))
	e.buf.WriteString(s)
}

func (e *traceEncoder) null() { e.int32(-1) }

func (e *traceEncoder) int16(v int16) {
	e.buf.Write(binary.BigEndian.AppendUint16(e.buf.AvailableBuffer(), uint16(v)))
}

func (e *traceEncoder) int32(v int32) {
	e.buf.Write(binary.BigEndian.AppendUint32(e.buf.AvailableBuffer(), uint32(v)))
}

func (e *traceEncoder) int64(v int64) {
	e.buf.Write(binary.BigEndian.AppendUint64(e.buf.AvailableBuffer(), uint64(v)))
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
