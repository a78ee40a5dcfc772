// admin.js is browser code imported as text by admin.ts (`with { type: 'text' }`).
declare const text: string
export default text
