//! The wide table as Parquet.

use super::*;
use parquet::basic::{ConvertedType, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::Field;
use parquet::schema::types::Type as SchemaType;

fn parquet_schema(columns: &[String]) -> Result<SchemaType, WriteError> {
    let string = |name: &str, repetition| {
        SchemaType::primitive_type_builder(name, PhysicalType::BYTE_ARRAY)
            .with_repetition(repetition)
            .with_logical_type(Some(LogicalType::String))
            .with_converted_type(ConvertedType::UTF8)
            .build()
    };
    let mut fields = vec![
        string("id", Repetition::REQUIRED)?,
        SchemaType::primitive_type_builder("label", PhysicalType::INT64)
            .with_repetition(Repetition::OPTIONAL)
            .build()?,
        string("status", Repetition::REQUIRED)?,
        string("error", Repetition::REQUIRED)?,
    ];
    for c in columns {
        fields.push(
            SchemaType::primitive_type_builder(c, PhysicalType::DOUBLE)
                .with_repetition(Repetition::OPTIONAL)
                .build()?,
        );
    }
    let fields = fields.into_iter().map(Arc::new).collect();
    Ok(SchemaType::group_type_builder("radx").with_fields(fields).build()?)
}

pub(super) fn write_parquet<W: Write + Send>(out: W, table: &Table) -> Result<(), WriteError> {
    let schema = Arc::new(parquet_schema(&table.columns)?);
    let properties = Arc::new(
        WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .set_created_by(format!("radx {}", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let mut writer = SerializedFileWriter::new(out, schema, properties)?;
    let aligned: Vec<(&Row, Option<Vec<f64>>)> = table.aligned().collect();
    for chunk in aligned.chunks(PARQUET_ROW_GROUP) {
        let mut group = writer.next_row_group()?;
        let mut column = 0usize;
        while let Some(mut col) = group.next_column()? {
            match column {
                0 | 2 | 3 => {
                    let text: Vec<ByteArray> = chunk
                        .iter()
                        .map(|(r, _)| match column {
                            0 => ByteArray::from(r.id.as_str()),
                            2 => ByteArray::from(r.status.as_str()),
                            _ => ByteArray::from(r.error.as_str()),
                        })
                        .collect();
                    col.typed::<ByteArrayType>().write_batch(&text, None, None)?;
                }
                1 => {
                    let labels: Vec<i64> = chunk.iter().filter_map(|(r, _)| r.label).collect();
                    let defined: Vec<i16> = chunk.iter().map(|(r, _)| i16::from(r.label.is_some())).collect();
                    col.typed::<Int64Type>().write_batch(&labels, Some(&defined), None)?;
                }
                _ => {
                    let at = column - KEY_COLUMNS.len();
                    // Failed rows are null; NaN (undefined feature) is stored as NaN.
                    let values: Vec<f64> = chunk.iter().filter_map(|(_, v)| v.as_ref().map(|v| v[at])).collect();
                    let defined: Vec<i16> = chunk.iter().map(|(_, v)| i16::from(v.is_some())).collect();
                    col.typed::<DoubleType>().write_batch(&values, Some(&defined), None)?;
                }
            }
            col.close()?;
            column += 1;
        }
        group.close()?;
    }
    writer.close()?;
    Ok(())
}

pub(super) fn read_parquet(path: &Path, file: std::fs::File) -> Result<Table, TableError> {
    let err = |e: parquet::errors::ParquetError| malformed(path, format!("Parquet: {e}"));
    let reader = SerializedFileReader::new(file).map_err(err)?;
    let schema = reader.metadata().file_metadata().schema_descr();
    let names: Vec<String> = schema.columns().iter().map(|c| c.name().to_string()).collect();
    if names.len() < KEY_COLUMNS.len() || names[..KEY_COLUMNS.len()] != KEY_COLUMNS {
        return Err(malformed(path, format!("the columns must start with {}", KEY_COLUMNS.join(","))));
    }
    let columns: Arc<[String]> = Arc::from(names[KEY_COLUMNS.len()..].to_vec());
    let mut rows = Vec::new();
    for (n, record) in reader.get_row_iter(None).map_err(err)?.enumerate() {
        let record = record.map_err(err)?;
        let fields: Vec<&Field> = record.get_column_iter().map(|(_, f)| f).collect();
        let text = |f: &Field| match f {
            Field::Str(s) => s.clone(),
            _ => String::new(),
        };
        let label = match fields[1] {
            Field::Long(l) => l.to_string(),
            Field::Int(l) => l.to_string(),
            _ => String::new(),
        };
        let key = parse_key(&text(fields[0]), &label, &text(fields[2]), &text(fields[3]))
            .map_err(bad_row(path, RowPosition::Row(n + 1)))?;
        let values = if key.status == Status::Ok {
            fields[KEY_COLUMNS.len()..]
                .iter()
                .map(|f| match f {
                    Field::Double(v) => *v,
                    Field::Float(v) => f64::from(*v),
                    _ => f64::NAN,
                })
                .collect()
        } else {
            Vec::new()
        };
        rows.push(key.into_row(&columns, values));
    }
    Ok(Table { columns: columns.to_vec(), rows })
}
