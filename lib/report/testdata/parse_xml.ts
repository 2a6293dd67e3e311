/**
 * A strict XML parse for tests (saxes: XML 1.0 well-formedness, character rules included)
 * into a small element tree.
 *
 * @module
 */

import { SaxesParser } from "saxes";

/** An element: its name, attributes, children and text. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** Parses `xml`; throws on anything that is not well-formed XML 1.0. */
export function parseXml(xml: string): XmlElement {
  const parser = new SaxesParser();
  const root: XmlElement = { name: "#document", attributes: {}, children: [], text: "" };
  const stack = [root];
  parser.on("opentag", (tag) => {
    const element: XmlElement = {
      name: tag.name,
      attributes: { ...(tag.attributes as Record<string, string>) },
      children: [],
      text: "",
    };
    stack.at(-1)!.children.push(element);
    stack.push(element);
  });
  parser.on("closetag", () => void stack.pop());
  parser.on("text", (text) => void (stack.at(-1)!.text += text));
  parser.on("error", (error) => {
    throw error;
  });
  parser.write(xml).close();
  const [document] = root.children;
  if (!document || root.children.length !== 1) throw new SyntaxError("Expected one root element");
  return document;
}

/** Every descendant element named `name`, in document order. */
export function elements(root: XmlElement, name: string): XmlElement[] {
  return root.children.flatMap((c) => [...(c.name === name ? [c] : []), ...elements(c, name)]);
}
