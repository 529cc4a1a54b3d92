package gateway

import (
	"net/http"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/openimis/imis-gateway/providers/africastalking"
)

var atUSSD = ussdWire{
	parse:       africastalking.ParseHop,
	render:      africastalking.Body,
	contentType: "text/plain; charset=utf-8",
}

// atSessionEvent handles Africa's Talking's end-of-session notification.
// End events only clean up; they never trigger writes (protocols.md §5.4).
func (s *Server) atSessionEvent(w http.ResponseWriter, r *http.Request) {
	ev, err := africastalking.ParseSessionEvent(r)
	if err != nil {
		s.rejectRequest(w, r, err)
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
