export { SchemaForm, Field, type FieldOverrideProps, type ResourcePickerProps, type SchemaFormProps } from './SchemaForm';
export * from './schema';
