package gateway

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/openimis/imis-gateway/providers/africastalking"
	"github.com/openimis/imis-gateway/providers/infobip"
)

// atSessionEvent handles Africa's Talking's end-of-session notification.
// End events only clean up; they never trigger writes (protocols.md §5.4).
func (s *Server) atSessionEvent(w http.ResponseWriter, r *http.Request) {
	ev, err := africastalking.ParseSessionEvent(r)
	if err != nil {
		rejectRequest(w, r, s.log, err)
		return
	}
	if err := s.hops.sessions.End(r.Context(), africastalking.Name, ev.SessionID); err != nil {
		// The session expires with its TTL anyway; AT must still get its 200.
		s.log.Warn("end session", "req", middleware.GetReqID(r.Context()), "err", err)
	}
	s.log.Info("session ended", "req", middleware.GetReqID(r.Context()), "provider", africastalking.Name,
		"session", ev.SessionID, "phone", maskPhone(ev.Phone), "status", ev.Status, "hops", ev.HopsCount,
		"error", ev.ErrorMessage)
	africastalking.WriteEventAck(w)
}

// infobipStatus answers Infobip's GET .../session/{id}/status: whether the
// gateway still holds the session.
func (s *Server) infobipStatus(w http.ResponseWriter, r *http.Request) {
	active, err := s.hops.sessions.Active(r.Context(), infobip.Name, chi.URLParam(r, "session"))
	if err != nil {
		s.log.Warn("session status", "req", middleware.GetReqID(r.Context()), "err", err)
	}
	w.Header().Set("Content-Type", infobip.ContentType)
	w.Write(infobip.StatusBody(active)) //nolint:errcheck
}
