/* Renders /api/v1/openapi.json as a reference page. No framework, no CDN, no inline code:
   everything is built with DOM calls and textContent, so the CSP (script-src 'self') holds. */
(function () {
  "use strict";

  var DOCUMENT_URL = "/api/v1/openapi.json";
  var METHODS = ["get", "post", "patch", "put", "delete"];

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function append(parent) {
    for (var i = 1; i < arguments.length; i++) {
      if (arguments[i]) { parent.appendChild(arguments[i]); }
    }
    return parent;
  }

  /* A tiny subset of Markdown: `code` and **bold** inline, blank lines between paragraphs. */
  function inline(text, into) {
    String(text || "").split(/(`[^`]+`|\*\*[^*]+\*\*)/).forEach(function (part) {
      if (!part) { return; }
      if (part.charAt(0) === "`") {
        into.appendChild(el("code", null, part.slice(1, -1)));
      } else if (part.indexOf("**") === 0) {
        into.appendChild(el("strong", null, part.slice(2, -2)));
      } else {
        into.appendChild(document.createTextNode(part));
      }
    });
    return into;
  }

  function prose(text, className) {
    var box = el("div", className || "prose");
    String(text || "").split(/\n\n+/).forEach(function (para) {
      box.appendChild(inline(para, el("p")));
    });
    return box;
  }

  function refName(ref) { return ref.split("/").pop(); }

  function anchorFor(kind, name) { return kind + "-" + name.replace(/[^A-Za-z0-9_-]/g, "-"); }

  function typeLabel(schema) {
    if (!schema) { return "any"; }
    if (schema.$ref) { return null; }
    if (schema.oneOf) { return null; }
    var type = schema.type;
    if (Array.isArray(type)) { return type.join(" | "); }
    return type || "any";
  }

  function constraints(schema) {
    var notes = [];
    if (schema.enum) { notes.push("one of: " + schema.enum.map(function (v) {
      return v === null ? "null" : v; }).join(", ")); }
    if (schema.format) { notes.push("format " + schema.format); }
    if (schema.pattern) { notes.push("pattern " + schema.pattern); }
    if (schema.minLength !== undefined) { notes.push("min length " + schema.minLength); }
    if (schema.maxLength !== undefined) { notes.push("max length " + schema.maxLength); }
    if (schema.minimum !== undefined) { notes.push("≥ " + schema.minimum); }
    if (schema.maximum !== undefined) { notes.push("≤ " + schema.maximum); }
    if (schema.minItems !== undefined) { notes.push("at least " + schema.minItems + " items"); }
    if (schema.maxItems !== undefined) { notes.push("at most " + schema.maxItems + " items"); }
    return notes;
  }

  /* One schema as an inline description: a link for $ref, nested lists for objects. */
  function schemaView(schema, depth) {
    var box = el("span", "schema");
    if (!schema) { return append(box, el("span", "type", "any")); }
    if (schema.$ref) {
      var link = el("a", "ref", refName(schema.$ref));
      link.href = "#" + anchorFor("schema", refName(schema.$ref));
      return append(box, link);
    }
    if (schema.oneOf) {
      schema.oneOf.forEach(function (option, i) {
        if (i) { box.appendChild(el("span", "sep", " or ")); }
        box.appendChild(schemaView(option, depth));
      });
      return box;
    }
    var label = typeLabel(schema);
    box.appendChild(el("span", "type", label));
    if (schema.items) {
      box.appendChild(el("span", "sep", " of "));
      box.appendChild(schemaView(schema.items, depth));
    }
    var notes = constraints(schema);
    if (notes.length) { box.appendChild(el("span", "constraints", " (" + notes.join("; ") + ")")); }
    if (schema.description && depth > 0) {
      inline(" — " + schema.description, box.appendChild(el("span", "description")));
    }
    if (schema.properties && depth < 4) {
      box.appendChild(propertyList(schema, depth + 1));
    } else if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
      box.appendChild(el("span", "sep", " with values "));
      box.appendChild(schemaView(schema.additionalProperties, depth + 1));
    }
    return box;
  }

  function propertyList(schema, depth) {
    var list = el("ul", "properties");
    var required = schema.required || [];
    Object.keys(schema.properties).forEach(function (name) {
      var item = el("li");
      item.appendChild(el("code", "name", name));
      if (required.indexOf(name) >= 0) { item.appendChild(el("span", "required", " required")); }
      item.appendChild(document.createTextNode(" "));
      item.appendChild(schemaView(schema.properties[name], depth));
      list.appendChild(item);
    });
    if (schema.additionalProperties === false) {
      list.appendChild(el("li", "closed", "No other fields."));
    }
    return list;
  }

  function parameterTable(parameters) {
    var table = el("table", "parameters");
    var head = el("tr");
    ["Parameter", "In", "Type", "Description"].forEach(function (title) {
      head.appendChild(el("th", null, title));
    });
    table.appendChild(head);
    parameters.forEach(function (param) {
      var row = el("tr");
      var name = el("td");
      name.appendChild(el("code", null, param.name));
      if (param.required) { name.appendChild(el("span", "required", " required")); }
      var type = el("td");
      type.appendChild(schemaView(param.schema, 1));
      append(row, name, el("td", null, param["in"]), type, inline(param.description, el("td")));
      table.appendChild(row);
    });
    return table;
  }

  function responseList(responses) {
    var list = el("ul", "responses");
    Object.keys(responses).sort().forEach(function (status) {
      var response = responses[status];
      var item = el("li");
      item.appendChild(el("span", "status status-" + status.charAt(0), status));
      item.appendChild(document.createTextNode(" "));
      inline(response.description, item);
      var content = response.content || {};
      Object.keys(content).forEach(function (mediaType) {
        var line = el("div", "media");
        line.appendChild(el("code", null, mediaType));
        line.appendChild(document.createTextNode(" "));
        line.appendChild(schemaView(content[mediaType].schema, 1));
        item.appendChild(line);
      });
      var headers = Object.keys(response.headers || {});
      if (headers.length) {
        item.appendChild(el("div", "headers", "Headers: " + headers.join(", ")));
      }
      list.appendChild(item);
    });
    return list;
  }

  function operationView(path, method, operation) {
    var section = el("section", "operation");
    section.id = anchorFor("op", operation.operationId || method + path);
    var title = el("h3");
    append(title, el("span", "method method-" + method, method.toUpperCase()),
           el("code", "path", path));
    section.appendChild(title);
    section.appendChild(el("p", "summary", operation.summary));
    if (operation.description) { section.appendChild(prose(operation.description)); }
    var security = operation.security || [];
    section.appendChild(el("p", "auth", security.length
      ? "Credentials: " + security.map(function (s) { return Object.keys(s).join(", "); }).join(" or ")
      : "No credentials needed."));
    if (operation.parameters && operation.parameters.length) {
      section.appendChild(el("h4", null, "Parameters"));
      section.appendChild(parameterTable(operation.parameters));
    }
    if (operation.requestBody) {
      section.appendChild(el("h4", null, "Body" + (operation.requestBody.required ? "" : " (optional)")));
      if (operation.requestBody.description) {
        section.appendChild(prose(operation.requestBody.description));
      }
      var content = operation.requestBody.content || {};
      Object.keys(content).forEach(function (mediaType) {
        var line = el("div", "media");
        append(line, el("code", null, mediaType), document.createTextNode(" "),
               schemaView(content[mediaType].schema, 1));
        section.appendChild(line);
      });
    }
    section.appendChild(el("h4", null, "Responses"));
    section.appendChild(responseList(operation.responses || {}));
    return section;
  }

  function render(doc) {
    var main = document.getElementById("reference");
    var toc = document.getElementById("toc");
    main.textContent = "";
    toc.textContent = "";
    main.appendChild(el("p", "version", doc.info.title + " " + doc.info.version +
                        " · OpenAPI " + doc.openapi + " · base URL " + doc.servers[0].url));
    main.appendChild(prose(doc.info.description, "prose intro"));

    var byTag = {};
    var tagOrder = (doc.tags || []).map(function (t) { return t.name; });
    Object.keys(doc.paths).forEach(function (path) {
      METHODS.forEach(function (method) {
        var operation = doc.paths[path][method];
        if (!operation) { return; }
        var tag = (operation.tags || ["Other"])[0];
        if (tagOrder.indexOf(tag) < 0) { tagOrder.push(tag); }
        (byTag[tag] = byTag[tag] || []).push([path, method, operation]);
      });
    });

    tagOrder.forEach(function (tag) {
      if (!byTag[tag]) { return; }
      var group = el("section", "tag");
      group.id = anchorFor("tag", tag);
      group.appendChild(el("h2", null, tag));
      toc.appendChild(el("h2", null, tag));
      var links = el("ul");
      byTag[tag].forEach(function (entry) {
        var view = operationView(entry[0], entry[1], entry[2]);
        group.appendChild(view);
        var link = el("a");
        append(link, el("span", "method method-" + entry[1], entry[1].toUpperCase()),
               document.createTextNode(" " + entry[0]));
        link.href = "#" + view.id;
        links.appendChild(append(el("li"), link));
      });
      toc.appendChild(links);
      main.appendChild(group);
    });

    var schemas = (doc.components || {}).schemas || {};
    var models = el("section", "tag");
    models.appendChild(el("h2", null, "Objects"));
    toc.appendChild(el("h2", null, "Objects"));
    var modelLinks = el("ul");
    Object.keys(schemas).forEach(function (name) {
      var box = el("section", "model");
      box.id = anchorFor("schema", name);
      box.appendChild(el("h3", null, name));
      if (schemas[name].description) { box.appendChild(prose(schemas[name].description)); }
      box.appendChild(schemaView(schemas[name], 0));
      models.appendChild(box);
      var link = el("a", null, name);
      link.href = "#" + box.id;
      modelLinks.appendChild(append(el("li"), link));
    });
    toc.appendChild(modelLinks);
    main.appendChild(models);
    if (window.location.hash) {
      var target = document.getElementById(window.location.hash.slice(1));
      if (target) { target.scrollIntoView(); }
    }
  }

  function fail(message) {
    var main = document.getElementById("reference");
    main.textContent = "";
    main.appendChild(el("p", "error", "The reference could not be loaded: " + message));
  }

  document.addEventListener("DOMContentLoaded", function () {
    fetch(DOCUMENT_URL, { headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(render)
      .catch(function (error) { fail(error.message); });
  });
}());
