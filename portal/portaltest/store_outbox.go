package portaltest

import (
	"reflect"
	"time"

	"github.com/porticoapi/portico/portal"
)

var outboxTests = []storeTestCase{
	{"AddAndFind", func(st *storeTest) {
		t := st.t
		before := st.version()
		t0 := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
		var added []*portal.Mail
		for i, subject := range []string{"Confirm", "Reset", "Invite"} {
			m := &portal.Mail{To: []string{"dev@example.com", "b@example.com"}, Subject: subject,
				Text: "Go to https://portal.example.com/x?token=" + subject, HTML: "<p>" + subject + "</p>", CreatedAt: t0.Add(time.Duration(i) * time.Second)}
			if err := st.s.AddMail(st.ctx, m); err != nil {
				t.Fatal(err)
			}
			if m.ID == 0 {
				t.Fatal("AddMail set no ID")
			}
			added = append(added, m)
		}
		if st.version() != before {
			t.Fatal("adding mail bumped the store version")
		}
		got, total, err := st.s.FindMails(st.ctx, portal.MailFilter{Limit: 2})
		if err != nil || total != 3 || len(got) != 2 {
			t.Fatalf("FindMails = %d mails, total %d, %v", len(got), total, err)
		}
		if !reflect.DeepEqual(got[0], added[2]) || !reflect.DeepEqual(got[1], added[1]) {
			t.Fatalf("FindMails, newest first = %+v %+v", got[0], got[1])
		}
		got, _, err = st.s.FindMails(st.ctx, portal.MailFilter{Offset: 2, Limit: 2})
		if err != nil || len(got) != 1 || got[0].Subject != "Confirm" {
			t.Fatalf("second page = %+v, %v", got, err)
		}
		wantCode(t, st.s.AddMail(st.ctx, &portal.Mail{Subject: "nobody"}), portal.EINVALID)
	}},
}
