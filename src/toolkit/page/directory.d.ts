// directory.js is browser code imported as text by directory.ts (`with { type: 'text' }`).
declare const text: string
export default text
