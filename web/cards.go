package web

import (
	"strings"
	"unicode/utf8"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
)

// summaryLength bounds the descriptions shown on cards, in characters.
const summaryLength = 180

// apiCards summarises apis for a list; activeTag marks the tag filter in
// force.
func apiCards(apis []*portal.API, activeTag string) []components.APICard {
	cards := make([]components.APICard, 0, len(apis))
	for _, a := range apis {
		cards = append(cards, components.APICard{
			Title:   a.Title(),
			URL:     apiURL(a.Name),
			Summary: summary(a.Description),
			Version: a.Version,
			Tags:    tagChips(a.Tags, activeTag),
		})
	}
	return cards
}

// tagChips links each tag to the catalogue filtered by it.
func tagChips(tags []string, active string) []components.Chip {
	chips := make([]components.Chip, 0, len(tags))
	for _, t := range tags {
		chips = append(chips, components.Chip{Label: t, URL: catalogueURL("", t, 1), Active: t == active})
	}
	return chips
}

// productBadges states a product's terms of access in words.
func productBadges(p *portal.Product) []components.Badge {
	var bs []components.Badge
	if p.State != portal.ProductPublished {
		bs = append(bs, components.Badge{Label: "Not published", Tone: components.ToneWarning})
	}
	if p.IsOpen() {
		bs = append(bs, components.Badge{Label: "Open: no key needed", Tone: components.ToneSuccess})
	} else {
		bs = append(bs, components.Badge{Label: "Subscription required", Tone: components.ToneInfo})
	}
	if p.ApprovalRequired {
		bs = append(bs, components.Badge{Label: "Approval required", Tone: components.ToneNeutral})
	}
	return bs
}

// summary is the first paragraph of a description, cut at a word boundary
// near summaryLength characters.
func summary(text string) string {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if i := strings.Index(text, "\n\n"); i >= 0 {
		text = text[:i]
	}
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= summaryLength {
		return text
	}
	cut := []rune(text)[:summaryLength]
	s := string(cut)
	if i := strings.LastIndexByte(s, ' '); i > summaryLength/2 {
		s = s[:i]
	}
	return strings.TrimRight(s, " ,.;:") + "…"
}
