// Package openapi imports API descriptions: it reads an OpenAPI 3.x or
// Swagger 2.0 document, written in YAML or JSON, and turns it into the
// operations, parameters, bodies, responses and schemas of package portal.
// Fetch reads such a document from a file or an http(s) URL with a size cap.
//
// It owns nothing else: it does not store what it imports, route requests or
// render pages. It imports only the standard library, portal and
// github.com/getkin/kin-openapi, plus the two YAML packages kin-openapi itself
// decodes with (github.com/oasdiff/yaml and github.com/oasdiff/yaml3), so that
// a document is read here exactly as the library reads it. It must not import
// any other Portico package.
//
// # What is accepted
//
// A document is either imported whole or refused with an EINVALID error whose
// message starts with its location and carries the library's reason
// ("specs/echo.yaml: invalid paths: ..."), so it can be shown to the person
// who wrote it. The "openapi" field selects OpenAPI 3.x and "swagger: 2.0"
// selects Swagger 2.0, which openapi2conv converts to OpenAPI 3 (body and
// formData parameters become request bodies, consumes and produces become
// media types, host and basePath become servers) before the same checks.
//
// OpenAPI 3.1 is imported: kin-openapi v0.152 reads and validates it (JSON
// Schema 2020-12 keywords, type arrays). A type array with "null" becomes
// Schema.Nullable, several other types become an anyOf of one schema per
// type, const becomes a one-value enum, the first of a schema's examples is
// its example, and a numeric exclusiveMinimum or exclusiveMaximum becomes the
// minimum or maximum (portal.Schema cannot say a bound is exclusive, in 3.0
// either). Keywords the portal cannot show (if/then/else, prefixItems,
// patternProperties, not, ...) and webhooks are left out; they do not change
// which requests the gateway routes. OpenAPI 3.2 documents are read the same
// way, but an operation under QUERY, CONNECT or additionalOperations is
// refused: the gateway routes only GET, PUT, POST, DELETE, OPTIONS, HEAD,
// PATCH and TRACE, and leaving such an operation out would be a partial
// import.
//
// # Validation
//
// The document goes through the library's validation, which rejects what
// would mislead readers or the gateway: paths without a leading '/', path
// parameters an operation does not declare, unresolved $refs, duplicate
// operationIds, a missing info.version or response description, unknown
// fields (a misspelt "descripton"), OpenAPI 3.1 keywords in a 3.0 document,
// schemas that are not schemas. Three of its checks are turned off, because
// they concern documentation that the portal only displays and real-world
// documents often get them slightly wrong:
//
//   - examples that do not match their schema (DisableExamplesValidation);
//   - defaults that do not match their schema (DisableSchemaDefaultsValidation);
//   - patterns that Go's regexp cannot compile, such as ECMAScript
//     look-aheads (DisableSchemaPatternValidation).
//
// Unknown string formats are accepted (the library's default). An unquoted
// "swagger: 2.0", which the library cannot read, is read as "2.0"; an
// unquoted "openapi: 3.0" is refused with a message saying to quote it.
//
// The library checks each schema again from every place that refers to it;
// validate.go makes it check each once, which turns minutes into a fraction
// of a second on large documents whose schemas refer to each other.
//
// # References
//
// Internal $refs are resolved by the library. A document never makes Portico
// fetch a URL: every $ref with a scheme or a host is refused. Relative file
// $refs are followed only when Options.BaseDir is set, and only to files
// inside that directory (through os.Root, so neither "../", absolute paths
// nor symbolic links lead out of it); each file is capped at 10 MiB and all of
// them together at 32 MiB.
//
// # Limits
//
// A document is refused before the library reads it when it nests more than
// 100 levels deep, or when its size times its nesting is too large (the
// library's decoding time grows with both; nesting.go has the numbers).
//
// Schemas are expanded into trees: a $ref back to a schema that encloses it
// becomes {Ref, Recursive: true}, nesting stops at depth 12, and each
// operation gets a budget of schema nodes (1,000, shrinking down to 16 when a
// document has many operations), spent breadth first. Past the depth or the
// budget a schema is abbreviated to its component name, type and
// description. A document whose operations would still need more than
// 300,000 nodes in all is refused, so that a small document with fan-out
// through shared components cannot exhaust memory. Examples longer than
// 64 KiB once encoded are left out. Named examples, media types and response
// headers are listed by name, since the library does not keep their order.
package openapi
