// graphql-js and Apollo read NODE_ENV once, as they load: unset, they run development checks on
// every value of every answer (graphql-js's cross-realm instanceof alone costs a fifth of a large
// answer). Entry points import this first; an explicit NODE_ENV is kept, and tests set their own.
process.env['NODE_ENV'] ??= 'production';
